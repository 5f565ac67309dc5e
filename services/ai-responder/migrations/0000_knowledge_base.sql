CREATE SCHEMA IF NOT EXISTS "ai_responder";
--> statement-breakpoint
CREATE TYPE "ai_responder"."article_status" AS ENUM('draft', 'published', 'retired');--> statement-breakpoint
CREATE TABLE "ai_responder"."articles" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"locale" text DEFAULT 'en' NOT NULL,
	"product_areas" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" "ai_responder"."article_status" DEFAULT 'draft' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED NOT NULL
);
--> statement-breakpoint
CREATE INDEX "articles_search_idx" ON "ai_responder"."articles" USING gin ("search");--> statement-breakpoint
CREATE INDEX "articles_status_idx" ON "ai_responder"."articles" USING btree ("status");