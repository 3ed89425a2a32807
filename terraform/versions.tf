# Terraform and provider versions, and the provider configuration.
#
# The code is written for the hashicorp/aws provider 3.39 (the version the offline test suite
# can install) and stays valid up to 4.x. It deliberately avoids attributes that only exist in
# newer providers (see README.md, "Trade-offs of the offline provider").

terraform {
  # terraform_data (the pinned master-password generator) needs Terraform 1.4 or later.
  required_version = ">= 1.4.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39.0, < 5.0.0"
    }
  }

  # State holds the generated master password (see database.tf): keep it in an encrypted,
  # access-controlled remote backend. Configure one in a backend.tf of your own, e.g.
  #   backend "s3" { bucket = "...", key = "d2b/warehouse.tfstate", region = "...",
  #                  encrypt = true, kms_key_id = "...", dynamodb_table = "..." }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        project    = "d2b-console"
        managed-by = "terraform"
        stack      = var.identifier
      },
      var.tags,
    )
  }
}
