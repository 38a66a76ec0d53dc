# Generated from the site configs and terraform/sites/central.auto.tfvars by `npx nx run tools:automation-sites`.
# Do not edit: change the site configs and regenerate.

sites = {}
