namespace Dtr.Metadata.PostgreSql;

/// <summary>
/// The schema of the metadata database, as an ordered list of migration scripts. Script N (counting from 1)
/// upgrades the schema from version N-1 to version N, and the version is kept in the <c>schema_version</c> table.
/// </summary>
/// <remarks>
/// Never edit a script that has shipped; append a new one instead, because databases that already ran the old
/// script will not run it again. The scripts use unqualified names, and MigrateAsync sets the search path to the
/// configured schema before running them.
/// </remarks>
internal static class PostgreSqlMigrations
{
    /// <summary>The migration scripts in the order they are applied.</summary>
    public static IReadOnlyList<string> Scripts { get; } =
    [
        // Version 1: the whole schema, the same tables and rules as version 2 of the SQLite store. Timestamps are
        // Unix time in milliseconds, UTC. Names use the "C" collation, so comparisons and ORDER BY are ordinal
        // whatever the database's default collation is. Tag listings order by lower(name) first.
        """
        CREATE TABLE repositories (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            created_at bigint NOT NULL,
            -- A row appears when content is first pushed; has_settings turns true when the repository is created
            -- through the identity store, and only then do the other settings columns count.
            has_settings boolean NOT NULL DEFAULT FALSE,
            visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
            description text,
            scan_on_push boolean NOT NULL DEFAULT FALSE,
            immutable_tags boolean NOT NULL DEFAULT FALSE
        );

        CREATE TABLE blob_links (
            repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            digest text COLLATE "C" NOT NULL,
            size bigint NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (repository_id, digest)
        );

        -- Garbage collection asks whether any repository still links a digest.
        CREATE INDEX blob_links_by_digest ON blob_links (digest);

        CREATE TABLE manifests (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            digest text COLLATE "C" NOT NULL,
            media_type text NOT NULL,
            content bytea NOT NULL,
            size bigint NOT NULL,
            subject_digest text COLLATE "C",
            artifact_type text,
            annotations text,
            created_at bigint NOT NULL,
            UNIQUE (repository_id, digest)
        );

        CREATE INDEX manifests_by_subject ON manifests (repository_id, subject_digest, digest)
            WHERE subject_digest IS NOT NULL;

        -- kind 0 is a blob (config or layer), kind 1 a child manifest of an index.
        CREATE TABLE manifest_references (
            manifest_id bigint NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
            kind integer NOT NULL CHECK (kind IN (0, 1)),
            digest text COLLATE "C" NOT NULL,
            PRIMARY KEY (manifest_id, kind, digest)
        );

        CREATE INDEX manifest_references_by_digest ON manifest_references (digest);

        CREATE TABLE tags (
            repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            name text COLLATE "C" NOT NULL,
            manifest_id bigint NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
            updated_at bigint NOT NULL,
            PRIMARY KEY (repository_id, name)
        );

        CREATE INDEX tags_by_manifest ON tags (manifest_id);

        -- Tag listings are in case-insensitive order, as the OCI distribution specification requires.
        CREATE INDEX tags_by_listing_order ON tags (repository_id, lower(name), name);

        CREATE TABLE upload_sessions (
            id text COLLATE "C" PRIMARY KEY,
            repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            started_at bigint NOT NULL,
            updated_at bigint NOT NULL
        );

        CREATE INDEX upload_sessions_by_updated_at ON upload_sessions (updated_at);

        -- Users and organizations share one name space, because each owns the repositories whose first path
        -- component is its name. A row here reserves a name for one of them, and the UNIQUE constraint keeps
        -- two writers from taking the same name.
        CREATE TABLE namespaces (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            kind text NOT NULL CHECK (kind IN ('user', 'organization')),
            created_at bigint NOT NULL
        );

        -- A user's id is the id of its namespace row, so deleting that row deletes the user.
        CREATE TABLE users (
            id bigint PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE,
            email text,
            full_name text,
            password_hash text,
            is_active boolean NOT NULL,
            is_admin boolean NOT NULL
        );

        CREATE TABLE organizations (
            id bigint PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE
        );

        CREATE TABLE organization_owners (
            organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (organization_id, user_id)
        );

        CREATE INDEX organization_owners_by_user ON organization_owners (user_id);

        CREATE TABLE teams (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            UNIQUE (organization_id, name)
        );

        CREATE TABLE team_members (
            team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (team_id, user_id)
        );

        CREATE INDEX team_members_by_user ON team_members (user_id);

        -- Only a hash of each token's secret is stored.
        CREATE TABLE access_tokens (
            id text COLLATE "C" PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            secret_hash text NOT NULL,
            label text,
            created_at bigint NOT NULL,
            last_used_at bigint
        );

        CREATE INDEX access_tokens_by_user ON access_tokens (user_id, created_at);

        -- level is an AccessLevel value: 1 read-only, 2 read-write, 3 admin.
        CREATE TABLE team_access (
            repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            level integer NOT NULL CHECK (level IN (1, 2, 3)),
            PRIMARY KEY (repository_id, team_id)
        );

        CREATE INDEX team_access_by_team ON team_access (team_id);
        """,

        // Version 2: upload leases, as in version 3 of the SQLite store. A request holds the lease on an upload
        // session while it writes to the upload, so registry hosts do not write to one upload at once. Both columns
        // are NULL while nobody holds the lease; lease_expires_at is Unix time in milliseconds, UTC.
        """
        ALTER TABLE upload_sessions ADD COLUMN lease_holder text COLLATE "C";
        ALTER TABLE upload_sessions ADD COLUMN lease_expires_at bigint;
        """,

        // Version 3: the digest a completion verified before it moved the upload into the blob store, as in version
        // 4 of the SQLite store. NULL until then.
        """
        ALTER TABLE upload_sessions ADD COLUMN verified_digest text COLLATE "C";
        """,

        // Version 4: image scanning (the vulnerability database, layer analyses, image scans, the scan queue and
        // pull policies) and named leases, as in version 5 of the SQLite store. Record and index rows carry their
        // import's id and have no foreign key, so an old copy of a source is deleted after the switch commits.
        """
        -- state: 0 importing, 1 completed, 2 discarded (its rows are deleted after the switch, then the import row).
        CREATE TABLE vulnerability_imports (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source text COLLATE "C" NOT NULL,
            started_at bigint NOT NULL,
            state smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2))
        );

        CREATE INDEX vulnerability_imports_by_source ON vulnerability_imports (source, state);

        CREATE TABLE vulnerability_sources (
            name text COLLATE "C" PRIMARY KEY,
            current_import_id bigint NOT NULL,
            record_count integer NOT NULL,
            updated_at bigint NOT NULL,
            etag text,
            last_modified bigint,
            archive_digest text,
            signature_verified boolean NOT NULL
        );

        -- packages is a JSON array of [ecosystem, package] pairs, the keys the record was added under. The importer
        -- takes ids from the identity sequence before it copies the rows in, so the index rows can name them.
        CREATE TABLE vulnerability_records (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            import_id bigint NOT NULL,
            vulnerability_id text COLLATE "C" NOT NULL,
            severity smallint NOT NULL,
            packages text NOT NULL,
            record_json text NOT NULL
        );

        CREATE INDEX vulnerability_records_by_import ON vulnerability_records (import_id);

        CREATE TABLE vulnerability_packages (
            import_id bigint NOT NULL,
            ecosystem text COLLATE "C" NOT NULL,
            package text COLLATE "C" NOT NULL,
            record_id bigint NOT NULL
        );

        CREATE INDEX vulnerability_packages_by_package ON vulnerability_packages (ecosystem, package);
        CREATE INDEX vulnerability_packages_by_import ON vulnerability_packages (import_id);

        -- One row: the version that every completed import or removed source raises by one.
        CREATE TABLE vulnerability_database (
            id integer PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL,
            updated_at bigint
        );

        INSERT INTO vulnerability_database (id, version, updated_at) VALUES (1, 0, NULL);

        CREATE TABLE layer_analyses (
            digest text COLLATE "C" NOT NULL,
            analyzer_version integer NOT NULL,
            analysis_json text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (digest, analyzer_version)
        );

        -- status is a ScanStatus value: 0 completed, 1 partial, 2 failed.
        CREATE TABLE image_scans (
            manifest_digest text COLLATE "C" PRIMARY KEY,
            status smallint NOT NULL CHECK (status IN (0, 1, 2)),
            scanned_at bigint NOT NULL,
            matched_at bigint NOT NULL,
            database_version bigint NOT NULL,
            critical integer NOT NULL,
            high integer NOT NULL,
            medium integer NOT NULL,
            low integer NOT NULL,
            unknown integer NOT NULL,
            inventory_json text,
            result_json text NOT NULL
        );

        -- The scans that a re-match pages through, in digest order.
        CREATE INDEX image_scans_to_rematch ON image_scans (manifest_digest, database_version)
            WHERE status IN (0, 1) AND inventory_json IS NOT NULL;

        -- holder and lease_expires_at are NULL until a worker claims the job; reason is a ScanReason value.
        CREATE TABLE scan_jobs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            repository text COLLATE "C" NOT NULL,
            manifest_digest text COLLATE "C" NOT NULL,
            reason smallint NOT NULL,
            enqueued_at bigint NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            holder text COLLATE "C",
            lease_expires_at bigint
        );

        -- At most one waiting job per manifest; a claimed job does not count, so a request during a scan queues one more.
        CREATE UNIQUE INDEX scan_jobs_one_waiting ON scan_jobs (manifest_digest) WHERE holder IS NULL;
        CREATE INDEX scan_jobs_by_manifest ON scan_jobs (manifest_digest, id);
        CREATE INDEX scan_jobs_by_age ON scan_jobs (enqueued_at, id);

        -- block_severity is a Severity value or NULL for no blocking; allowlist is a JSON array.
        CREATE TABLE scan_policies (
            repository_id bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
            block_severity smallint,
            allow_unscanned boolean NOT NULL,
            allowlist text NOT NULL
        );

        CREATE TABLE leases (
            name text COLLATE "C" PRIMARY KEY,
            holder text COLLATE "C" NOT NULL,
            expires_at bigint NOT NULL
        );
        """,

        // Version 5: garbage collection, as in version 6 of the SQLite store. blobs records each blob's last use and
        // the run that is deleting its bytes. gc_runs and gc_run_items record each run and what it removed.
        """
        -- A row appears when a blob is first linked or used. deleting_run is the id of the run that marked the blob
        -- for deletion, or NULL. While it is set, linking and using the blob are rejected.
        CREATE TABLE blobs (
            digest text COLLATE "C" PRIMARY KEY,
            last_used_at bigint NOT NULL,
            deleting_run text COLLATE "C"
        );

        CREATE INDEX blobs_marked_for_deletion ON blobs (deleting_run, digest) WHERE deleting_run IS NOT NULL;

        -- Garbage collection deletes a manifest's scan result once no repository stores the manifest.
        CREATE INDEX manifests_by_digest ON manifests (digest);

        -- trigger is a GarbageCollectionTrigger value, status a GarbageCollectionStatus value (0 is running).
        -- errors is a JSON array of strings.
        CREATE TABLE gc_runs (
            id text COLLATE "C" PRIMARY KEY,
            trigger smallint NOT NULL,
            dry_run boolean NOT NULL,
            delete_untagged boolean NOT NULL,
            max_duration_ms bigint,
            requested_by text,
            host text,
            status smallint NOT NULL,
            started_at bigint NOT NULL,
            ended_at bigint,
            heartbeat_at bigint,
            cancel_requested boolean NOT NULL DEFAULT FALSE,
            manifests_deleted bigint NOT NULL,
            blob_links_deleted bigint NOT NULL,
            blobs_deleted bigint NOT NULL,
            bytes_freed bigint NOT NULL,
            uploads_purged bigint NOT NULL,
            errors text NOT NULL
        );

        CREATE INDEX gc_runs_by_start ON gc_runs (started_at DESC, id DESC);
        CREATE INDEX gc_runs_by_trigger ON gc_runs (trigger, started_at DESC, id DESC);
        CREATE INDEX gc_runs_by_end ON gc_runs (ended_at) WHERE ended_at IS NOT NULL;

        -- kind is a GarbageCollectionItemKind value; position counts from 1 within each run.
        CREATE TABLE gc_run_items (
            run_id text COLLATE "C" NOT NULL REFERENCES gc_runs (id) ON DELETE CASCADE,
            position bigint NOT NULL,
            kind smallint NOT NULL,
            repository text COLLATE "C",
            digest text COLLATE "C",
            upload_id text COLLATE "C",
            size bigint NOT NULL,
            PRIMARY KEY (run_id, position)
        );
        """,

        // Version 6: the runtime settings, as in version 7 of the SQLite store: one JSON document in a single row,
        // whose version grows by one with each save, for optimistic concurrency.
        """
        CREATE TABLE settings (
            id smallint PRIMARY KEY CHECK (id = 1),
            document text NOT NULL,
            version bigint NOT NULL,
            updated_at bigint NOT NULL,
            updated_by text COLLATE "C"
        );
        """,

        // Version 7: the audit log, as in version 8 of the SQLite store. result is an AuditResult value, time a Unix
        // time in milliseconds, and seq grows with each append, so listing newest first and paging both follow it.
        """
        CREATE TABLE audit_entries (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time bigint NOT NULL,
            actor text COLLATE "C",
            client_address text COLLATE "C",
            repository text COLLATE "C",
            action text COLLATE "C" NOT NULL,
            result smallint NOT NULL,
            status integer NOT NULL,
            detail text
        );

        CREATE INDEX audit_entries_by_time ON audit_entries (time);
        CREATE INDEX audit_entries_by_actor ON audit_entries (actor, seq);
        CREATE INDEX audit_entries_by_repository ON audit_entries (repository, seq);
        """,

        // Version 8: webhooks, as in version 9 of the SQLite store. scope is a WebhookScope value, events a
        // WebhookEventTypes bit set, min_severity a Severity value and state a WebhookDeliveryState value. Times are
        // Unix time in milliseconds. A delivery is leased to one holder until lease_expires_at, and deleting a
        // subscription deletes its deliveries and attempts.
        """
        CREATE TABLE webhooks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            scope smallint NOT NULL,
            target text COLLATE "C",
            url text NOT NULL,
            events integer NOT NULL,
            min_severity smallint NOT NULL,
            enabled boolean NOT NULL,
            secret text NOT NULL,
            description text,
            created_by text COLLATE "C",
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL
        );

        CREATE TABLE webhook_deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            event_id text COLLATE "C" NOT NULL,
            event_type text COLLATE "C" NOT NULL,
            payload text NOT NULL,
            created_at bigint NOT NULL,
            state smallint NOT NULL,
            attempts integer NOT NULL,
            next_attempt_at bigint NOT NULL,
            holder text COLLATE "C",
            lease_expires_at bigint
        );

        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
        CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id);

        CREATE TABLE webhook_attempts (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
            webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            number integer NOT NULL,
            time bigint NOT NULL,
            status_code integer,
            error text,
            duration_ms bigint NOT NULL
        );

        CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, seq);
        CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
        CREATE INDEX webhook_attempts_by_time ON webhook_attempts (time);
        """,

        // Version 9: named secrets that every host shares, as in version 10 of the SQLite store. updated_at is a Unix
        // time in milliseconds.
        """
        CREATE TABLE key_material (
            name text COLLATE "C" PRIMARY KEY,
            value text NOT NULL,
            updated_at bigint NOT NULL
        );
        """,
    ];
}
