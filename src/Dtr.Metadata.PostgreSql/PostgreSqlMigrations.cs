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
    ];
}
