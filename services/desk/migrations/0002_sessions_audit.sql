CREATE TABLE "desk"."audit" (
	"audit_id" text PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"service" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "desk"."sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"login" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "desk"."sessions" ADD CONSTRAINT "sessions_login_logins_login_fk" FOREIGN KEY ("login") REFERENCES "desk"."logins"("login") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_time" ON "desk"."audit" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "audit_resource" ON "desk"."audit" USING btree ("resource_type","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_actor" ON "desk"."audit" USING btree ("actor","occurred_at");--> statement-breakpoint
CREATE INDEX "sessions_login" ON "desk"."sessions" USING btree ("login");--> statement-breakpoint
CREATE INDEX "sessions_expiry" ON "desk"."sessions" USING btree ("expires_at");