CREATE TABLE "ai_responder"."kb_outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"key" text NOT NULL,
	"payload" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ai_responder"."kb_resolutions" (
	"conversation_id" text NOT NULL,
	"handoff_id" text NOT NULL,
	"outcome" text NOT NULL,
	"suggestion_id" text,
	"article_id" text,
	"similarity" real,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kb_resolutions_conversation_id_handoff_id_pk" PRIMARY KEY("conversation_id","handoff_id")
);
--> statement-breakpoint
CREATE TABLE "ai_responder"."kb_suggestions" (
	"suggestion_id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"locale" text DEFAULT 'en' NOT NULL,
	"origin" text DEFAULT 'resolution' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"vector" real[],
	"vector_model" text,
	"article_id" text,
	"reviewer_id" text,
	"reason" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Agents' drafts (article_proposals) become suggestions of origin "agent": one learning loop.
-- A pending draft keeps its draft article, which approval publishes as its next version.
INSERT INTO "ai_responder"."kb_suggestions" ("suggestion_id", "title", "body", "tags", "locale", "origin", "status", "sources", "article_id", "reviewer_id", "reason", "expires_at", "reviewed_at", "created_at", "updated_at")
SELECT p."draft_id", a."title", a."body", a."tags", a."locale", 'agent', p."status"::text,
	jsonb_build_array(jsonb_build_object('conversationId', p."conversation_id", 'handoffId', p."handoff_id", 'agentId', p."agent_id", 'question', '')),
	p."article_id", p."reviewed_by", p."reason", greatest(p."proposed_at", now()) + interval '14 days', p."reviewed_at", p."proposed_at", now()
FROM "ai_responder"."article_proposals" p JOIN "ai_responder"."articles" a ON a."id" = p."article_id";--> statement-breakpoint
DROP TABLE "ai_responder"."article_proposals" CASCADE;--> statement-breakpoint
CREATE UNIQUE INDEX "kb_outbox_event_idx" ON "ai_responder"."kb_outbox" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "kb_outbox_unpublished_idx" ON "ai_responder"."kb_outbox" USING btree ("seq") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "kb_suggestions_status_idx" ON "ai_responder"."kb_suggestions" USING btree ("status","expires_at");--> statement-breakpoint
DROP TYPE "ai_responder"."proposal_status";