import GRDB

/// The index schema, as numbered migrations: a database written by any older hoard is brought
/// forward on open, and one written by a newer hoard is refused rather than misread.
enum IndexSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: blobs, conda, repodata, oci") { db in
            // Every committed blob. `pinned` blobs (pushed content that exists nowhere else) are
            // never evicted; `last_access` (unix seconds) orders eviction.
            try db.execute(sql: """
                CREATE TABLE blob (
                    digest      TEXT PRIMARY KEY NOT NULL,
                    size        INTEGER NOT NULL,
                    created_at  REAL NOT NULL,
                    last_access REAL NOT NULL,
                    pinned      INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX blob_eviction ON blob (pinned, last_access);

                -- conda: (channel, label, subdir, filename) -> blob. '' is the main label.
                CREATE TABLE conda_file (
                    channel  TEXT NOT NULL,
                    label    TEXT NOT NULL DEFAULT '',
                    subdir   TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    digest   TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    PRIMARY KEY (channel, label, subdir, filename)
                ) WITHOUT ROWID;
                CREATE INDEX conda_file_digest ON conda_file (digest);

                -- A repodata document as fetched from upstream (`name` is repodata.json,
                -- current_repodata.json, repodata_shards.msgpack.zst, ...), with the upstream
                -- validators for conditional revalidation and the derived representations served.
                CREATE TABLE repodata (
                    channel             TEXT NOT NULL,
                    label               TEXT NOT NULL DEFAULT '',
                    subdir              TEXT NOT NULL,
                    name                TEXT NOT NULL,
                    digest              TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    served_digest       TEXT REFERENCES blob(digest) ON DELETE CASCADE,
                    zst_digest          TEXT REFERENCES blob(digest) ON DELETE CASCADE,
                    upstream_etag       TEXT,
                    upstream_last_modified TEXT,
                    upstream_cache_control TEXT,
                    upstream_base_url   TEXT,
                    upstream_shards_base_url TEXT,
                    fetched_at          REAL NOT NULL,
                    validated_at        REAL NOT NULL,
                    PRIMARY KEY (channel, label, subdir, name)
                ) WITHOUT ROWID;

                -- OCI: repositories, their manifests (by digest), tags and blob membership.
                CREATE TABLE oci_repository (
                    name       TEXT PRIMARY KEY NOT NULL,
                    created_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE oci_manifest (
                    repository    TEXT NOT NULL REFERENCES oci_repository(name) ON DELETE CASCADE,
                    digest        TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    media_type    TEXT NOT NULL,
                    artifact_type TEXT,
                    subject       TEXT,
                    created_at    REAL NOT NULL,
                    PRIMARY KEY (repository, digest)
                ) WITHOUT ROWID;
                CREATE INDEX oci_manifest_subject ON oci_manifest (repository, subject);
                CREATE TABLE oci_tag (
                    repository TEXT NOT NULL,
                    tag        TEXT NOT NULL,
                    digest     TEXT NOT NULL,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (repository, tag),
                    FOREIGN KEY (repository, digest) REFERENCES oci_manifest(repository, digest) ON DELETE CASCADE
                ) WITHOUT ROWID;
                CREATE TABLE oci_blob (
                    repository TEXT NOT NULL REFERENCES oci_repository(name) ON DELETE CASCADE,
                    digest     TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    PRIMARY KEY (repository, digest)
                ) WITHOUT ROWID;
                CREATE INDEX oci_blob_digest ON oci_blob (digest);
                """)
        }
        migrator.registerMigration("v2: repodata upstream url") { db in
            // Which upstream URL the stored validators belong to (repodata.json.zst or .json).
            try db.execute(sql: "ALTER TABLE repodata ADD COLUMN upstream_url TEXT")
        }
        // Appended last so it applies after any migration registered before it; it only adds a table.
        migrator.registerMigration("v3: oci digest aliases and pushed digests") { db in
            // OCI digests of another algorithm (sha512) naming a blob stored under its sha256.
            try db.execute(sql: """
                CREATE TABLE oci_digest_alias (
                    alias  TEXT PRIMARY KEY NOT NULL,
                    digest TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE
                ) WITHOUT ROWID;
                CREATE INDEX oci_digest_alias_digest ON oci_digest_alias (digest);
                -- The digest a manifest was pushed under when it is not its sha256 (a sha512 PUT),
                -- so pulls by tag answer with the digest the client pushed.
                ALTER TABLE oci_manifest ADD COLUMN pushed_digest TEXT;
                """)
        }
        migrator.registerMigration("v4: pulled-through registry content") { db in
            // What the OCI front pulled through from upstream registries. Unlike pushed content
            // it is not pinned (it can be fetched again), so these rows only name blobs:
            // eviction of a blob drops its rows by cascade.
            try db.execute(sql: """
                CREATE TABLE oci_upstream_content (
                    registry   TEXT NOT NULL,
                    repository TEXT NOT NULL,
                    digest     TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    media_type TEXT,  -- set for manifests, NULL for blobs
                    PRIMARY KEY (registry, repository, digest)
                ) WITHOUT ROWID;
                CREATE INDEX oci_upstream_content_digest ON oci_upstream_content (digest);
                -- A tag resolved upstream, and when, for the tag TTL (and stale use when upstream is down).
                CREATE TABLE oci_upstream_tag (
                    registry    TEXT NOT NULL,
                    repository  TEXT NOT NULL,
                    tag         TEXT NOT NULL,
                    digest      TEXT NOT NULL REFERENCES blob(digest) ON DELETE CASCADE,
                    media_type  TEXT NOT NULL,
                    resolved_at REAL NOT NULL,
                    PRIMARY KEY (registry, repository, tag)
                ) WITHOUT ROWID;
                CREATE INDEX oci_upstream_tag_digest ON oci_upstream_tag (digest);
                """)
        }
        migrator.registerMigration("v5: documents upstream does not have") { db in
            // An upstream 404/403/410 for a channel document (current_repodata.json of a channel
            // that has none, ...), kept so hoard can answer the same while upstream is down: a
            // client such as conda falls back to another document only on a 404, never on a 502.
            // It names no blob, so eviction never touches it; a document saved later replaces it.
            try db.execute(sql: """
                CREATE TABLE repodata_missing (
                    channel      TEXT NOT NULL,
                    label        TEXT NOT NULL DEFAULT '',
                    subdir       TEXT NOT NULL,
                    name         TEXT NOT NULL,
                    upstream_url TEXT NOT NULL,
                    status       INTEGER NOT NULL,
                    checked_at   REAL NOT NULL,
                    PRIMARY KEY (channel, label, subdir, name)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6: conda OCI info layers") { db in
            // The `info/` layers of conda packages as the OCI layout lists them (HoardCondaOCI):
            // derived from the archive once, reproducibly, and remembered here by the archive's
            // sha256 (and the subdir, which index.json gets when it lacks one). The rows outlive
            // their blobs on purpose: the layers' digests are part of manifests clients have seen,
            // and an evicted layer blob is made again from the archive, to the same digest.
            try db.execute(sql: """
                CREATE TABLE conda_oci_info (
                    archive_digest   TEXT NOT NULL,
                    subdir           TEXT NOT NULL,
                    recipe           INTEGER NOT NULL,
                    info_tar_gz      TEXT NOT NULL,
                    info_tar_gz_size INTEGER NOT NULL,
                    index_json       TEXT NOT NULL,
                    index_json_size  INTEGER NOT NULL,
                    created_at       REAL NOT NULL,
                    PRIMARY KEY (archive_digest, subdir)
                ) WITHOUT ROWID;
                CREATE INDEX conda_oci_info_tar_gz ON conda_oci_info (info_tar_gz);
                CREATE INDEX conda_oci_info_index_json ON conda_oci_info (index_json);
                """)
        }
        return migrator
    }
}
