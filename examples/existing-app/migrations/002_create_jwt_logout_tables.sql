-- jwt-logout tables (up), compiled from its Kysely migrations.
-- Apply them with your own migration tool; jwt-logout does not record them as applied.
create schema if not exists "auth";
-- 0001_create_user_logouts (up)
create table "auth"."user_logouts" ("user_id" text primary key, "logged_out_at" timestamptz not null);
-- 0002_create_session_logouts (up)
create table "auth"."session_logouts" ("user_id" text not null, "session_id" text not null, "logged_out_at" timestamptz not null, "expires_at" timestamptz not null, constraint "session_logouts_pkey" primary key ("user_id", "session_id"));
create index "session_logouts_expires_at_idx" on "auth"."session_logouts" ("expires_at");
