namespace Dtr.Storage.Sqlite;

/// <summary>
/// The schema of the metadata database, as an ordered list of migration scripts. Script N (counting from 1)
/// upgrades the schema from version N-1 to version N, and the version is kept in <c>PRAGMA user_version</c>.
/// </summary>
/// <remarks>
/// Never edit a script that has shipped; append a new one instead, because databases that already ran the old
/// script will not run it again.
/// </remarks>
internal static class SqliteMigrations
{
    /// <summary>The migration scripts in the order they are applied.</summary>
    public static IReadOnlyList<string> Scripts { get; } =
    [
        // Version 1: the initial schema. Timestamps are Unix time in milliseconds, UTC. Text columns compare with
        // the default BINARY collation, which gives the ordinal order of catalog listings; tag listings use NOCASE.
        """
        CREATE TABLE repositories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE blob_links (
            repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            digest TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, digest)
        ) WITHOUT ROWID;

        -- Garbage collection asks whether any repository still links a digest.
        CREATE INDEX blob_links_by_digest ON blob_links (digest);

        CREATE TABLE manifests (
            id INTEGER PRIMARY KEY,
            repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            digest TEXT NOT NULL,
            media_type TEXT NOT NULL,
            content BLOB NOT NULL,
            size INTEGER NOT NULL,
            subject_digest TEXT,
            artifact_type TEXT,
            annotations TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (repository_id, digest)
        );

        CREATE INDEX manifests_by_subject ON manifests (repository_id, subject_digest, digest)
            WHERE subject_digest IS NOT NULL;

        -- kind 0 is a blob (config or layer), kind 1 a child manifest of an index.
        CREATE TABLE manifest_references (
            manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
            kind INTEGER NOT NULL CHECK (kind IN (0, 1)),
            digest TEXT NOT NULL,
            PRIMARY KEY (manifest_id, kind, digest)
        ) WITHOUT ROWID;

        CREATE INDEX manifest_references_by_digest ON manifest_references (digest);

        CREATE TABLE tags (
            repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, name)
        ) WITHOUT ROWID;

        CREATE INDEX tags_by_manifest ON tags (manifest_id);

        -- Tag listings are in case-insensitive order, as the OCI distribution specification requires.
        CREATE INDEX tags_by_listing_order ON tags (repository_id, name COLLATE NOCASE, name);

        CREATE TABLE upload_sessions (
            id TEXT PRIMARY KEY,
            repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            started_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE INDEX upload_sessions_by_updated_at ON upload_sessions (updated_at);
        """,

        // Version 2: users, organizations, teams, access tokens, repository settings and team access grants.
        // Deleting a user, organization, team or repository row deletes everything that hangs off it through
        // ON DELETE CASCADE, which every connection turns on (SqliteMetadataStore sets Foreign Keys=True).
        """
        -- Users and organizations share one name space, because each owns the repositories whose first path
        -- component is its name. A row here reserves a name for one of them, and the UNIQUE constraint keeps
        -- two writers from taking the same name.
        CREATE TABLE namespaces (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('user', 'organization')),
            created_at INTEGER NOT NULL
        );

        -- A user's id is the id of its namespace row, so deleting that row deletes the user.
        CREATE TABLE users (
            id INTEGER PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE,
            email TEXT,
            full_name TEXT,
            password_hash TEXT,
            is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
            is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1))
        );

        CREATE TABLE organizations (
            id INTEGER PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE
        );

        CREATE TABLE organization_owners (
            organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (organization_id, user_id)
        ) WITHOUT ROWID;

        CREATE INDEX organization_owners_by_user ON organization_owners (user_id);

        CREATE TABLE teams (
            id INTEGER PRIMARY KEY,
            organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (organization_id, name)
        );

        CREATE TABLE team_members (
            team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (team_id, user_id)
        ) WITHOUT ROWID;

        CREATE INDEX team_members_by_user ON team_members (user_id);

        -- Only a hash of each token's secret is stored.
        CREATE TABLE access_tokens (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            label TEXT,
            created_at INTEGER NOT NULL,
            last_used_at INTEGER
        );

        CREATE INDEX access_tokens_by_user ON access_tokens (user_id, created_at);

        -- A repository row appears when content is first pushed; has_settings turns 1 when the repository is
        -- created through the identity store, and only then do the other settings columns count.
        ALTER TABLE repositories ADD COLUMN has_settings INTEGER NOT NULL DEFAULT 0 CHECK (has_settings IN (0, 1));
        ALTER TABLE repositories ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public'));
        ALTER TABLE repositories ADD COLUMN description TEXT;
        ALTER TABLE repositories ADD COLUMN scan_on_push INTEGER NOT NULL DEFAULT 0 CHECK (scan_on_push IN (0, 1));
        ALTER TABLE repositories ADD COLUMN immutable_tags INTEGER NOT NULL DEFAULT 0 CHECK (immutable_tags IN (0, 1));

        -- level is an AccessLevel value: 1 read-only, 2 read-write, 3 admin.
        CREATE TABLE team_access (
            repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
            team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
            PRIMARY KEY (repository_id, team_id)
        ) WITHOUT ROWID;

        CREATE INDEX team_access_by_team ON team_access (team_id);
        """,

        // Version 3: upload leases. A request holds the lease on an upload session while it writes to the upload,
        // so registry hosts that share the database do not write to one upload at once. Both columns are NULL
        // while nobody holds the lease; lease_expires_at is Unix time in milliseconds, UTC.
        """
        ALTER TABLE upload_sessions ADD COLUMN lease_holder TEXT;
        ALTER TABLE upload_sessions ADD COLUMN lease_expires_at INTEGER;
        """,

        // Version 4: the digest a completion verified before it moved the upload into the blob store, so a retried
        // completion can finish after that move failed to reach the database. NULL until then.
        """
        ALTER TABLE upload_sessions ADD COLUMN verified_digest TEXT;
        """,

        // Version 5: image scanning (the vulnerability database, layer analyses, image scans, the scan queue and
        // pull policies) and named leases. Record and index rows carry their import's id and have no foreign key,
        // so an old copy of a source can be deleted in batches after the switch (see SqliteMetadataStore.Scanning).
        """
        -- state: 0 importing, 1 completed, 2 discarded (its rows are deleted in batches, then the import row).
        CREATE TABLE vulnerability_imports (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2))
        );

        CREATE INDEX vulnerability_imports_by_source ON vulnerability_imports (source, state);

        CREATE TABLE vulnerability_sources (
            name TEXT PRIMARY KEY,
            current_import_id INTEGER NOT NULL,
            record_count INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            etag TEXT,
            last_modified INTEGER,
            archive_digest TEXT,
            signature_verified INTEGER NOT NULL CHECK (signature_verified IN (0, 1))
        );

        -- packages is a JSON array of [ecosystem, package] pairs, the keys the record was added under.
        CREATE TABLE vulnerability_records (
            id INTEGER PRIMARY KEY,
            import_id INTEGER NOT NULL,
            vulnerability_id TEXT NOT NULL,
            severity INTEGER NOT NULL,
            packages TEXT NOT NULL,
            record_json TEXT NOT NULL
        );

        CREATE INDEX vulnerability_records_by_import ON vulnerability_records (import_id);

        CREATE TABLE vulnerability_packages (
            import_id INTEGER NOT NULL,
            ecosystem TEXT NOT NULL,
            package TEXT NOT NULL,
            record_id INTEGER NOT NULL
        );

        CREATE INDEX vulnerability_packages_by_package ON vulnerability_packages (ecosystem, package);
        CREATE INDEX vulnerability_packages_by_import ON vulnerability_packages (import_id);

        -- One row: the version that every completed import or removed source raises by one.
        CREATE TABLE vulnerability_database (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL,
            updated_at INTEGER
        );

        INSERT INTO vulnerability_database (id, version, updated_at) VALUES (1, 0, NULL);

        CREATE TABLE layer_analyses (
            digest TEXT NOT NULL,
            analyzer_version INTEGER NOT NULL,
            analysis_json TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (digest, analyzer_version)
        ) WITHOUT ROWID;

        -- status is a ScanStatus value: 0 completed, 1 partial, 2 failed.
        CREATE TABLE image_scans (
            manifest_digest TEXT PRIMARY KEY,
            status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),
            scanned_at INTEGER NOT NULL,
            matched_at INTEGER NOT NULL,
            database_version INTEGER NOT NULL,
            critical INTEGER NOT NULL,
            high INTEGER NOT NULL,
            medium INTEGER NOT NULL,
            low INTEGER NOT NULL,
            unknown INTEGER NOT NULL,
            inventory_json TEXT,
            result_json TEXT NOT NULL
        );

        -- The scans that a re-match pages through, in digest order.
        CREATE INDEX image_scans_to_rematch ON image_scans (manifest_digest, database_version)
            WHERE status IN (0, 1) AND inventory_json IS NOT NULL;

        -- holder and lease_expires_at are NULL until a worker claims the job; reason is a ScanReason value.
        CREATE TABLE scan_jobs (
            id INTEGER PRIMARY KEY,
            repository TEXT NOT NULL,
            manifest_digest TEXT NOT NULL,
            reason INTEGER NOT NULL,
            enqueued_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            holder TEXT,
            lease_expires_at INTEGER
        );

        -- At most one waiting job per manifest; a claimed job does not count, so a request during a scan queues one more.
        CREATE UNIQUE INDEX scan_jobs_one_waiting ON scan_jobs (manifest_digest) WHERE holder IS NULL;
        CREATE INDEX scan_jobs_by_manifest ON scan_jobs (manifest_digest, id);
        CREATE INDEX scan_jobs_by_age ON scan_jobs (enqueued_at, id);

        -- block_severity is a Severity value or NULL for no blocking; allowlist is a JSON array.
        CREATE TABLE scan_policies (
            repository_id INTEGER PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
            block_severity INTEGER,
            allow_unscanned INTEGER NOT NULL CHECK (allow_unscanned IN (0, 1)),
            allowlist TEXT NOT NULL
        );

        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        """,

        // Version 6: garbage collection. A blobs row records a blob's last use and, while a run deletes its bytes,
        // that run's id, which keeps the blob from being linked. gc_runs and gc_run_items record each run and what it
        // removed (see SqliteMetadataStore.GarbageCollection).
        """
        -- last_used_at is the latest link or upload completion of the blob in any repository. A blob without a row
        -- has no recorded use: it was linked before this version, or its bytes were deleted.
        CREATE TABLE blobs (
            digest TEXT PRIMARY KEY,
            last_used_at INTEGER NOT NULL,
            deleting_run TEXT
        ) WITHOUT ROWID;

        CREATE INDEX blobs_marked_for_deletion ON blobs (deleting_run, digest) WHERE deleting_run IS NOT NULL;

        -- Deleting a manifest asks whether any repository still has a manifest with the digest, before it deletes
        -- the digest's scan result.
        CREATE INDEX manifests_by_digest ON manifests (digest);

        -- trigger is a GarbageCollectionTrigger value, status a GarbageCollectionStatus value (0 running), errors a
        -- JSON array of strings and max_duration_ms a length in milliseconds.
        CREATE TABLE gc_runs (
            id TEXT PRIMARY KEY,
            trigger INTEGER NOT NULL,
            dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
            delete_untagged INTEGER NOT NULL CHECK (delete_untagged IN (0, 1)),
            max_duration_ms INTEGER,
            requested_by TEXT,
            host TEXT,
            status INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            ended_at INTEGER,
            heartbeat_at INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            manifests_deleted INTEGER NOT NULL,
            blob_links_deleted INTEGER NOT NULL,
            blobs_deleted INTEGER NOT NULL,
            bytes_freed INTEGER NOT NULL,
            uploads_purged INTEGER NOT NULL,
            errors TEXT NOT NULL
        );

        CREATE INDEX gc_runs_newest_first ON gc_runs (started_at DESC, id DESC);
        CREATE INDEX gc_runs_by_trigger ON gc_runs (trigger, started_at DESC, id DESC);

        -- kind is a GarbageCollectionItemKind value; position counts from 1 within each run.
        CREATE TABLE gc_run_items (
            run_id TEXT NOT NULL REFERENCES gc_runs (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            repository TEXT,
            digest TEXT,
            upload_id TEXT,
            size INTEGER NOT NULL,
            PRIMARY KEY (run_id, position)
        ) WITHOUT ROWID;
        """,

        // Version 7: the runtime settings that administrators change through the management API, as one JSON
        // document in a single row. version grows by one with each save, for optimistic concurrency.
        """
        CREATE TABLE settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT
        );
        """,

        // Version 8: the audit log. result is an AuditResult value, time a Unix time in milliseconds. seq grows with
        // each append, so listing newest first and paging both follow it.
        """
        CREATE TABLE audit_entries (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time INTEGER NOT NULL,
            actor TEXT,
            client_address TEXT,
            repository TEXT,
            action TEXT NOT NULL,
            result INTEGER NOT NULL,
            status INTEGER NOT NULL,
            detail TEXT
        );

        CREATE INDEX audit_entries_by_time ON audit_entries (time);
        CREATE INDEX audit_entries_by_actor ON audit_entries (actor, seq);
        CREATE INDEX audit_entries_by_repository ON audit_entries (repository, seq);
        """,

        // Version 9: webhook subscriptions, the queue of deliveries and the log of their attempts. scope is a
        // WebhookScope value, events a WebhookEventTypes bit set, min_severity a Severity value and state a
        // WebhookDeliveryState value. Times are Unix time in milliseconds. A delivery is leased to one holder until
        // lease_expires_at, and deleting a subscription deletes its deliveries and attempts.
        """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scope INTEGER NOT NULL,
            target TEXT,
            url TEXT NOT NULL,
            events INTEGER NOT NULL,
            min_severity INTEGER NOT NULL,
            enabled INTEGER NOT NULL,
            secret TEXT NOT NULL,
            description TEXT,
            created_by TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            event_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            state INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            holder TEXT,
            lease_expires_at INTEGER
        );

        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
        CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id);

        CREATE TABLE webhook_attempts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
            webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            time INTEGER NOT NULL,
            status_code INTEGER,
            error TEXT,
            duration_ms INTEGER NOT NULL
        );

        CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, seq);
        CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
        CREATE INDEX webhook_attempts_by_time ON webhook_attempts (time);
        """,

        // Version 10: named secrets that every host of the registry shares, such as the client certificate
        // authority's key and the uploaded HTTPS certificate. updated_at is a Unix time in milliseconds.
        """
        CREATE TABLE key_material (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ];
}
