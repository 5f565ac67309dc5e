-- openDatabase creates the schema before migrating (it holds the migrations table), hence IF NOT EXISTS.
CREATE SCHEMA IF NOT EXISTS "router";
--> statement-breakpoint
CREATE TABLE "router"."agents" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"team" text NOT NULL,
	"skills" text[] NOT NULL,
	"languages" text[] NOT NULL,
	"max_concurrent" integer NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
