CREATE TABLE "metrics"."reviews" (
	"review_id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"rules" text[] DEFAULT '{}' NOT NULL,
	"policy_version" text DEFAULT '' NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"assigned_at" timestamp with time zone,
	"outcome" text DEFAULT '' NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "reviews_conversation_idx" ON "metrics"."reviews" USING btree ("conversation_id");
