# One customer-managed KMS key for everything at rest that belongs to this stack: the database
# storage and its snapshots, Performance Insights, the master-credentials secret and the
# database's CloudWatch log groups.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Known before the instance exists, so the IAM trust policies and the log groups can name
  # it without a dependency cycle.
  db_instance_arn = "arn:${local.partition}:rds:${data.aws_region.current.name}:${local.account_id}:db:${var.identifier}"
  log_group_arn   = "arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account_id}:log-group:/aws/rds/instance/${var.identifier}/*"
}

data "aws_iam_policy_document" "kms" {
  # In a key policy, resource "*" means "this key" and nothing else; the account-root statement
  # is AWS's default key policy, which hands the key's authorisation over to IAM policies.
  #checkov:skip=CKV_AWS_109:Key policy: resource "*" is this key only; the root statement delegates to IAM (AWS default key policy).
  #checkov:skip=CKV_AWS_111:Key policy: resource "*" is this key only; the root statement delegates to IAM (AWS default key policy).
  #checkov:skip=CKV_AWS_356:Key policy: resource "*" is this key only, not every resource of the account.
  # Administration and use stay with IAM policies of the account (the AWS default key policy).
  statement {
    sid       = "AccountIAMPolicies"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts this stack's RDS log groups, and nothing else, with the key.
  statement {
    sid = "CloudWatchLogsForThisInstance"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }
}

resource "aws_kms_key" "warehouse" {
  description             = "d2b warehouse ${var.identifier}: RDS storage, Performance Insights, master secret, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "warehouse" {
  name          = "alias/${var.identifier}"
  target_key_id = aws_kms_key.warehouse.key_id
}
