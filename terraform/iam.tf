# IAM for the aws_s3 extension: one role per RDS feature, so that the import role can only
# read the source prefix and the export role can only write the export prefix. Only the RDS
# service acting for this very instance (in this account) may assume them.

locals {
  bucket_arn        = "arn:${local.partition}:s3:::${var.data_lake_bucket}"
  source_prefix_arn = "${local.bucket_arn}/${var.source_prefix}*"
  export_prefix_arn = "${local.bucket_arn}/${var.export_prefix}*"
  s3_service        = "s3.${data.aws_region.current.name}.amazonaws.com"
}

data "aws_iam_policy_document" "rds_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["rds.amazonaws.com"]
    }
    # Confused-deputy protection: RDS may assume the role only on behalf of this instance.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.db_instance_arn]
    }
  }
}

# --- s3Import: read the source prefix -----------------------------------------------------

data "aws_iam_policy_document" "s3_import" {
  statement {
    sid       = "ReadSourceObjects"
    actions   = ["s3:GetObject"]
    resources = [local.source_prefix_arn]
  }

  statement {
    sid       = "ListSourcePrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.source_prefix, "${var.source_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.data_lake_kms_key_arn == "" ? [] : [var.data_lake_kms_key_arn]
    content {
      sid       = "DecryptSourceObjects"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.s3_service]
      }
    }
  }
}

resource "aws_iam_role" "s3_import" {
  name_prefix        = "${var.identifier}-s3imp-"
  description        = "aws_s3 import of ${var.identifier}: read s3://${var.data_lake_bucket}/${var.source_prefix}"
  assume_role_policy = data.aws_iam_policy_document.rds_assume.json
}

resource "aws_iam_role_policy" "s3_import" {
  name   = "read-source-prefix"
  role   = aws_iam_role.s3_import.id
  policy = data.aws_iam_policy_document.s3_import.json
}

resource "aws_db_instance_role_association" "s3_import" {
  db_instance_identifier = aws_db_instance.warehouse.id
  feature_name           = "s3Import"
  role_arn               = aws_iam_role.s3_import.arn
}

# --- s3Export: write the export prefix ----------------------------------------------------

data "aws_iam_policy_document" "s3_export" {
  statement {
    sid       = "WriteExportObjects"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.export_prefix_arn]
  }

  dynamic "statement" {
    for_each = var.data_lake_kms_key_arn == "" ? [] : [var.data_lake_kms_key_arn]
    content {
      sid       = "EncryptExportObjects"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.s3_service]
      }
    }
  }
}

resource "aws_iam_role" "s3_export" {
  name_prefix        = "${var.identifier}-s3exp-"
  description        = "aws_s3 export of ${var.identifier}: write s3://${var.data_lake_bucket}/${var.export_prefix}"
  assume_role_policy = data.aws_iam_policy_document.rds_assume.json
}

resource "aws_iam_role_policy" "s3_export" {
  name   = "write-export-prefix"
  role   = aws_iam_role.s3_export.id
  policy = data.aws_iam_policy_document.s3_export.json
}

resource "aws_db_instance_role_association" "s3_export" {
  db_instance_identifier = aws_db_instance.warehouse.id
  feature_name           = "s3Export"
  role_arn               = aws_iam_role.s3_export.arn

  # RDS applies one role association at a time.
  depends_on = [aws_db_instance_role_association.s3_import]
}
