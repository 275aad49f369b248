"""Write-offs (坏账核销) with a supervisor's approval, their recovery from later payments, and referrals to an
outside collection agency (委托催收): the rules (service), their tables, pages and API."""
