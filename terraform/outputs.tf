# What the operator needs to build the console's D2B_WAREHOUSE_URL (see README.md).

output "endpoint" {
  description = "Host name of the warehouse (no port)."
  value       = aws_db_instance.warehouse.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.warehouse.port
}

output "database_name" {
  description = "Database name."
  value       = var.database_name
}

output "master_username" {
  description = "Master user name (its password is in the secret below)."
  value       = var.master_username
}

output "master_secret_arn" {
  description = "Secrets Manager secret with the master credentials (JSON: host, port, dbname, username, password)."
  value       = aws_secretsmanager_secret.master.arn
}

output "security_group_id" {
  description = "Security group of the database; add client security groups through allowed_security_group_ids."
  value       = aws_security_group.warehouse.id
}

output "s3_import_role_arn" {
  description = "Role used by the aws_s3 extension to read the source prefix."
  value       = aws_iam_role.s3_import.arn
}

output "s3_export_role_arn" {
  description = "Role used by the aws_s3 extension to write the export prefix."
  value       = aws_iam_role.s3_export.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the storage, snapshots, Performance Insights, secret and logs."
  value       = aws_kms_key.warehouse.arn
}
