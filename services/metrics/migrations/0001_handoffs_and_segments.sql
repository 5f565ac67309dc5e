CREATE TABLE "metrics"."articles" (
	"article_id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"topic" text NOT NULL,
	"published_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metrics"."handoffs" (
	"handoff_id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"requested_at" timestamp with time zone,
	"trigger_at" timestamp with time zone,
	"rules" text[] DEFAULT '{}' NOT NULL,
	"triggers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"priority" text DEFAULT '' NOT NULL,
	"policy_version" text DEFAULT '' NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"assignments" integer DEFAULT 0 NOT NULL,
	"assigned_at" timestamp with time zone,
	"accepted_at" timestamp with time zone,
	"first_reply_at" timestamp with time zone,
	"false_marked" boolean DEFAULT false NOT NULL,
	"matched_article_id" text DEFAULT '' NOT NULL,
	"handed_back_at" timestamp with time zone,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "tier" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "language" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "topic" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "policy_version" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_name" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_owner" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_monthly_value" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_currency" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_at_risk" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "account_vip" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "first_message_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "first_trigger_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "assumed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "ai_resolved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "reopened_after_ai" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "csat_requested" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "csat_score" smallint;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "lowest_sentiment" double precision;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "largest_fall" double precision;--> statement-breakpoint
ALTER TABLE "metrics"."conversations" ADD COLUMN "message_times" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "articles_topic_idx" ON "metrics"."articles" USING btree ("topic");--> statement-breakpoint
CREATE INDEX "handoffs_conversation_idx" ON "metrics"."handoffs" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "conversations_channel_idx" ON "metrics"."conversations" USING btree ("channel","started_at");--> statement-breakpoint
CREATE INDEX "conversations_tier_idx" ON "metrics"."conversations" USING btree ("tier","started_at");--> statement-breakpoint
CREATE INDEX "conversations_language_idx" ON "metrics"."conversations" USING btree ("language","started_at");--> statement-breakpoint
CREATE INDEX "conversations_topic_idx" ON "metrics"."conversations" USING btree ("topic","started_at");--> statement-breakpoint
CREATE INDEX "conversations_policy_version_idx" ON "metrics"."conversations" USING btree ("policy_version","started_at");--> statement-breakpoint
CREATE INDEX "conversations_account_idx" ON "metrics"."conversations" USING btree ("account_id");