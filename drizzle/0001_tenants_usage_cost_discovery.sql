CREATE TABLE "discovered_limits" (
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"dimension" text NOT NULL,
	"state" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "discovered_limits_project_id_model_dimension_pk" PRIMARY KEY("project_id","model","dimension")
);
--> statement-breakpoint
CREATE TABLE "tenant_usage_daily" (
	"tenant_id" text NOT NULL,
	"day" text NOT NULL,
	"model" text NOT NULL,
	"central" boolean NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"successes" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"candidates_tokens" bigint DEFAULT 0 NOT NULL,
	"thoughts_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_pico" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_usage_daily_tenant_id_day_model_central_pk" PRIMARY KEY("tenant_id","day","model","central")
);
--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "thoughts_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "cached_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "day" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "cost_pico" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "tenant_usage_daily_day_idx" ON "tenant_usage_daily" USING btree ("day");