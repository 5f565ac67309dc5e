CREATE TABLE "router"."teams" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "router"."agents" ADD COLUMN "skill_levels" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "router"."agents" ADD COLUMN "working_hours" jsonb;--> statement-breakpoint
ALTER TABLE "router"."agents" ADD COLUMN "time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "router"."agents" ADD COLUMN "email" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Teams the existing agents already name.
INSERT INTO "router"."teams" ("name") SELECT DISTINCT "team" FROM "router"."agents" ON CONFLICT DO NOTHING;
