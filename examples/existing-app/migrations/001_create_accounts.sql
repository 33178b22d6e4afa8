-- The application's own table, created long before it adopted jwt-logout.
create table accounts (
  username text primary key,
  -- scrypt$<salt hex>$<32-byte key hex>
  password_hash text not null
);

-- Demo account: ada / ada-password.
insert into accounts (username, password_hash) values
  ('ada', 'scrypt$1c162ab71cf27e5ac10290f504f68322$51433a582c5dc8cbe7f2a52f623fee34a554ee033c548b4b4ce5c9505d7bbece');
