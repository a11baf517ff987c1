/** Nix's SQLite schema for a local store DB (version 10, Nix 2.0 to today): the one place overlay-warden keeps it. */

/** The version Nix writes to STATE/db/schema (`nixSchemaVersion`), and the only one the reader accepts. */
export const NIX_SCHEMA_VERSION = 10;

/** Columns of ValidPaths, in Nix's order; the reader requires all of them. */
export const VALID_PATHS_COLUMNS = ['id', 'path', 'hash', 'registrationTime', 'deriver', 'narSize', 'ultimate', 'sigs', 'ca'] as const;

/**
 * The statements Nix runs when it creates a DB (its schema.sql, which Nix 2.8 ships): same tables, columns,
 * constraints, indexes and trigger. Newer Nix drops IndexReferrer (the primary key covers it) through its
 * SchemaMigrations table, without changing the version; the reader copes with either.
 * The CA tables (Realisations in Nix 2.4–2.3x, BuildTraceV3 later) exist only with `ca-derivations`, and are not here.
 */
export const NIX_DB_SCHEMA_SQL = `
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null, -- narHash as sha256:<base-16>
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed
);

create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);

create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);

-- Paths can refer to themselves, causing a tuple (x, x) in Refs; the "on delete restrict" would stop their deletion.
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;

create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);

create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
`;
