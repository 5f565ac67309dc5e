-- openDatabase creates the schema before migrating (it holds the migrations table), hence IF NOT EXISTS.
CREATE SCHEMA IF NOT EXISTS "metrics";
--> statement-breakpoint
CREATE TABLE "metrics"."conversations" (
	"conversation_id" text PRIMARY KEY NOT NULL,
	"channel" text DEFAULT '' NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ai_replies" integer DEFAULT 0 NOT NULL,
	"handoffs" integer DEFAULT 0 NOT NULL,
	"first_handoff_at" timestamp with time zone,
	"assigned_at" timestamp with time zone,
	"status" text NOT NULL,
	"resolved_as" text,
	"resolved_at" timestamp with time zone,
	"reopened" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metrics"."processed_events" (
	"event_id" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE INDEX "conversations_started_at_idx" ON "metrics"."conversations" USING btree ("started_at");