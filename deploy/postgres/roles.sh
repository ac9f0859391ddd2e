#!/bin/sh
# Run once by the postgres image when its data volume is new (docker-entrypoint-initdb.d): a role that
# owns the schemas and applies migrations (`mtp migrate`), and a login role per service, which the
# migrations give its own schema's rows and nothing more. Passwords come from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner_pw="$MTP_OWNER_PASSWORD" \
    -v intake_pw="$MTP_INTAKE_PASSWORD" \
    -v scheduler_pw="$MTP_SCHEDULER_PASSWORD" \
    -v notifier_pw="$MTP_NOTIFIER_PASSWORD" <<'SQL'
CREATE ROLE mtp_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE mtp_intake LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'intake_pw';
CREATE ROLE mtp_scheduler LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'scheduler_pw';
CREATE ROLE mtp_notifier LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'notifier_pw';
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE :"db" TO mtp_owner;
GRANT CONNECT ON DATABASE :"db" TO mtp_intake, mtp_scheduler, mtp_notifier;
SQL
