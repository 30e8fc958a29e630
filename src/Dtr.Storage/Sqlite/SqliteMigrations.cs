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
    ];
}
