# Network access: private subnets, and a security group that admits PostgreSQL only from the
# CIDR blocks and security groups the operator lists (nothing by default, never the world).

resource "aws_db_subnet_group" "warehouse" {
  name_prefix = "${var.identifier}-"
  description = "Private subnets of the ${var.identifier} warehouse"
  subnet_ids  = var.subnet_ids
}

resource "aws_security_group" "warehouse" {
  name_prefix = "${var.identifier}-db-"
  description = "PostgreSQL access to the ${var.identifier} warehouse"
  vpc_id      = var.vpc_id

  # Rules are separate resources below; an aws_security_group without egress blocks has its
  # default allow-all egress rule removed by Terraform.

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "postgres_from_cidrs" {
  count             = length(var.allowed_cidr_blocks) > 0 ? 1 : 0
  type              = "ingress"
  description       = "PostgreSQL from the listed CIDR blocks"
  security_group_id = aws_security_group.warehouse.id
  protocol          = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_blocks       = var.allowed_cidr_blocks
}

resource "aws_security_group_rule" "postgres_from_security_groups" {
  for_each                 = toset(var.allowed_security_group_ids)
  type                     = "ingress"
  description              = "PostgreSQL from ${each.value}"
  security_group_id        = aws_security_group.warehouse.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  source_security_group_id = each.value
}

# The aws_s3 extension calls S3 from the instance: HTTPS to the VPC's S3 gateway endpoint only.
resource "aws_security_group_rule" "https_to_s3" {
  count             = var.s3_prefix_list_id != "" ? 1 : 0
  type              = "egress"
  description       = "HTTPS to S3 through the VPC gateway endpoint (aws_s3 extension)"
  security_group_id = aws_security_group.warehouse.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_ids   = [var.s3_prefix_list_id]
}
