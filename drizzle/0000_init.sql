CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"project_id" text NOT NULL,
	"secret_enc" text NOT NULL,
	"fingerprint" text NOT NULL,
	"priority" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"disabled_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_limits" (
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"dimension" text NOT NULL,
	"source" text NOT NULL,
	"value" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_limits_project_id_model_dimension_source_pk" PRIMARY KEY("project_id","model","dimension","source")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"tier" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rpd_ledger" (
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"day" text NOT NULL,
	"used" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rpd_ledger_project_id_model_day_pk" PRIMARY KEY("project_id","model","day")
);
--> statement-breakpoint
CREATE TABLE "scope_exclusions" (
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"reason" text NOT NULL,
	"until" timestamp with time zone,
	"detail" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scope_exclusions_project_id_model_reason_pk" PRIMARY KEY("project_id","model","reason")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"key_mode" text NOT NULL,
	"models" jsonb,
	"token_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"job_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"key_id" text NOT NULL,
	"project_id" text NOT NULL,
	"model" text NOT NULL,
	"outcome" text NOT NULL,
	"status" integer,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"candidates_tokens" integer DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"central" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_token_hash_idx" ON "tenants" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "usage_events_at_idx" ON "usage_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "usage_events_scope_at_idx" ON "usage_events" USING btree ("project_id","model","at");