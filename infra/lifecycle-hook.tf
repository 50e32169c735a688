# Lifecycle hooks (and the managed tag) for one Auto Scaling group of EKS nodes, Terraform flavour
# of infra/lifecycle-hook.cfn.yml (same names, timeouts and defaults).
#
# EKS managed node group (terraform-aws-modules/eks or aws_eks_node_group):
#   module "spotguard_hooks" {
#     source                 = "./infra"            # or copy these resources
#     autoscaling_group_name = aws_eks_node_group.spot.resources[0].autoscaling_groups[0].name
#   }
# The group name must match the spotguard stack's lifecycleGroupPrefix param (default "eks-").

variable "autoscaling_group_name" {
  type        = string
  description = "Name of the node group's Auto Scaling group"
}

variable "managed_tag_key" {
  type    = string
  default = "spotguard.io/managed"
}

# The spotguard install's clusterName param (its IAM condition and its checks match this value,
# so another cluster's spotguard in the same account never touches this group).
variable "managed_tag_value" {
  type        = string
  description = "Name of the EKS cluster (the spotguard stack's clusterName param)"
}

variable "terminate_heartbeat_timeout" {
  type        = number
  default     = 300
  description = "Seconds between heartbeats before the terminate hook times out (spotguard heartbeats while draining)"
}

# Terminate: spotguard drains, then completes with CONTINUE; a timeout also continues, so
# termination is never blocked by spotguard.
resource "aws_autoscaling_lifecycle_hook" "spotguard_terminate" {
  name                   = "spotguard-terminate"
  autoscaling_group_name = var.autoscaling_group_name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_TERMINATING"
  heartbeat_timeout      = var.terminate_heartbeat_timeout
  default_result         = "CONTINUE"
}

# Launch: completed with CONTINUE once the node is Ready; never Ready in time → ABANDON.
resource "aws_autoscaling_lifecycle_hook" "spotguard_launch" {
  name                   = "spotguard-launch"
  autoscaling_group_name = var.autoscaling_group_name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_LAUNCHING"
  heartbeat_timeout      = 600
  default_result         = "ABANDON"
}

# IAM lets spotguard change only groups with this tag. Not propagated to instances.
resource "aws_autoscaling_group_tag" "spotguard_managed" {
  autoscaling_group_name = var.autoscaling_group_name

  tag {
    key                 = var.managed_tag_key
    value               = var.managed_tag_value
    propagate_at_launch = false
  }
}
