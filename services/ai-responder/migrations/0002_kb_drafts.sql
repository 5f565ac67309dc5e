CREATE TYPE "ai_responder"."proposal_status" AS ENUM('pending', 'approved', 'rejected');--> statement-breakpoint
CREATE TABLE "ai_responder"."article_proposals" (
	"draft_id" text PRIMARY KEY NOT NULL,
	"article_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"handoff_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"proposed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" "ai_responder"."proposal_status" DEFAULT 'pending' NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"reason" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_responder"."article_proposals" ADD CONSTRAINT "article_proposals_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "ai_responder"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "article_proposals_status_idx" ON "ai_responder"."article_proposals" USING btree ("status","proposed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "article_proposals_article_idx" ON "ai_responder"."article_proposals" USING btree ("article_id");