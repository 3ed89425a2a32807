# Inputs. Secure defaults: a stack created with only the required inputs is private,
# encrypted, TLS-only, backed up and protected against deletion.

variable "region" {
  description = "AWS region of the warehouse (the data lake bucket's region avoids cross-region transfer)."
  type        = string
  default     = "eu-central-1"
}

variable "identifier" {
  description = "Name of the RDS instance; also the prefix of every named resource."
  type        = string
  default     = "d2b-warehouse"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}[a-z0-9]$", var.identifier))
    error_message = "The identifier must be lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "tags" {
  description = "Extra tags added to every resource."
  type        = map(string)
  default     = {}
}

# --- the database -------------------------------------------------------------------------

variable "engine_version" {
  description = "PostgreSQL engine version (major.minor). The parameter group family follows the major version."
  type        = string
  default     = "16.4"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "The engine_version must look like \"16.4\"."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20
    error_message = "RDS PostgreSQL needs at least 20 GiB."
  }
}

variable "max_allocated_storage" {
  description = "Upper bound in GiB for storage autoscaling (0 disables autoscaling)."
  type        = number
  default     = 100
}

variable "storage_type" {
  description = "Storage type: gp3, gp2 or io1."
  type        = string
  default     = "gp3"
}

variable "database_name" {
  description = "Name of the database created in the instance."
  type        = string
  default     = "warehouse"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "The database_name must be lowercase letters, digits and underscores, starting with a letter."
  }
}

variable "master_username" {
  description = "Master (administrator) user name. Its password is generated and kept in Secrets Manager; the console uses a separate least-privilege role."
  type        = string
  default     = "d2b_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && !contains(["admin", "postgres", "rdsadmin"], var.master_username)
    error_message = "The master_username must be lowercase letters, digits and underscores, and not a reserved name."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in another availability zone. Set false only for test stacks."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "Keep backups between 7 and 35 days."
  }
}

variable "backup_window" {
  description = "Daily UTC window for automated backups (before the daily load)."
  type        = string
  default     = "01:00-02:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window; must not overlap the backup window."
  type        = string
  default     = "sun:03:00-sun:04:00"
}

variable "deletion_protection" {
  description = "Refuse to delete the instance. Set false only for throw-away test stacks."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot. Keep false except for throw-away test stacks."
  type        = bool
  default     = false
}

variable "ca_cert_identifier" {
  description = "Certificate authority of the server certificate that clients verify with sslmode=verify-full."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 disables it; 1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "The monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "performance_insights_enabled" {
  description = "Enable Performance Insights (encrypted with the stack's KMS key). Not available on the smallest instance classes."
  type        = bool
  default     = true
}

variable "log_min_duration_statement_ms" {
  description = "Log statements slower than this many milliseconds (-1 disables)."
  type        = number
  default     = 1000
}

# --- network ------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two, in different availability zones) for the DB subnet group."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "allowed_cidr_blocks" {
  description = "CIDR blocks admitted to PostgreSQL (5432), e.g. the operators' bastion or VPN range. Never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_cidr_blocks : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each allowed CIDR block must be a valid, non-world CIDR (0.0.0.0/0 and ::/0 are refused)."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members are admitted to PostgreSQL (5432), e.g. the console's host or a bastion."
  type        = list(string)
  default     = []
}

variable "s3_prefix_list_id" {
  description = "Prefix list of the VPC's S3 gateway endpoint (pl-...); when set, the database may open HTTPS to S3 only, for the aws_s3 extension. Empty: no egress at all."
  type        = string
  default     = ""
}

# --- data lake (aws_s3 extension) ---------------------------------------------------------

variable "data_lake_bucket" {
  description = "Bucket of the data lake."
  type        = string
  default     = "d2b-internal-assessment-bucket"
}

variable "source_prefix" {
  description = "Prefix of the daily source CSVs (read only)."
  type        = string
  default     = "orders_data/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$", var.source_prefix))
    error_message = "The source_prefix must be a relative key prefix ending with a slash, without wildcards."
  }
}

variable "export_prefix" {
  description = "Prefix the analytics exports are written under (write only)."
  type        = string
  default     = "analytics_export/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$", var.export_prefix))
    error_message = "The export_prefix must be a relative key prefix ending with a slash, without wildcards."
  }
}

variable "data_lake_kms_key_arn" {
  description = "KMS key of the data lake bucket if it uses SSE-KMS (grants decrypt/encrypt to the S3 roles); empty for SSE-S3."
  type        = string
  default     = ""
}
