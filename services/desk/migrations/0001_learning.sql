CREATE TABLE "desk"."kb_suggestions" (
	"suggestion_id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"origin" text DEFAULT 'resolution' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"article_id" text,
	"reviewer_id" text,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "desk"."webhooks" ADD COLUMN "format" text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
CREATE INDEX "kb_suggestions_status" ON "desk"."kb_suggestions" USING btree ("status","created_at");