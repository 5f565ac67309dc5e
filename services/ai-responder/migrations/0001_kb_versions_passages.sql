CREATE TABLE "ai_responder"."article_versions" (
	"article_id" text NOT NULL,
	"version" integer NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"locale" text NOT NULL,
	"product_areas" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" "ai_responder"."article_status" NOT NULL,
	"source" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "article_versions_article_id_version_pk" PRIMARY KEY("article_id","version")
);
--> statement-breakpoint
CREATE TABLE "ai_responder"."passages" (
	"id" text PRIMARY KEY NOT NULL,
	"article_id" text NOT NULL,
	"article_version" integer NOT NULL,
	"ordinal" integer NOT NULL,
	"heading" text DEFAULT '' NOT NULL,
	"text" text NOT NULL,
	"splitter" text NOT NULL,
	"embedding" real[],
	"embedding_model" text
);
--> statement-breakpoint
DROP INDEX "ai_responder"."articles_search_idx";--> statement-breakpoint
ALTER TABLE "ai_responder"."articles" ADD COLUMN "source" text DEFAULT 'api' NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_responder"."articles" ADD COLUMN "created_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_responder"."article_versions" ADD CONSTRAINT "article_versions_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "ai_responder"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_responder"."passages" ADD CONSTRAINT "passages_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "ai_responder"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "passages_article_idx" ON "ai_responder"."passages" USING btree ("article_id");--> statement-breakpoint
ALTER TABLE "ai_responder"."articles" DROP COLUMN "search";