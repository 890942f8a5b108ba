"""The remote cache tier: memory://, file:// and S3 (moto on 127.0.0.1) shared by two "machines"."""
