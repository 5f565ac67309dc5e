CREATE TABLE "router"."skills" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "router"."teams" ADD COLUMN "skills" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
-- The skills existing agents already name, and the catch-all one, become the known set.
INSERT INTO "router"."skills" ("name") SELECT DISTINCT lower(unnest("skills")) FROM "router"."agents" UNION SELECT 'general' ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Each existing team covers the skills its agents have.
UPDATE "router"."teams" t SET "skills" = coalesce((SELECT array_agg(DISTINCT s ORDER BY s) FROM "router"."agents" a, unnest(a."skills") s WHERE a."team" = t."name"), '{}');
