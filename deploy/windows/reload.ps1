<#
.SYNOPSIS
  Makes the sstpwatch service read its config again, without a restart (what SIGHUP does on Linux).
.DESCRIPTION
  POST /-/reload with the token install.ps1 wrote. An invalid config is refused and the running one stays; the
  answer lists every error with its path, and the targets added, removed and changed.
.EXAMPLE
  & "$env:ProgramFiles\sstpwatch\reload.ps1"
#>
param(
  [string] $Url = 'http://127.0.0.1:9470',
  [string] $TokenFile = (Join-Path $env:ProgramData 'sstpwatch\token')
)
$ErrorActionPreference = 'Stop'
$token = (Get-Content -Raw $TokenFile).Trim()
try {
  $answer = Invoke-RestMethod -Method Post -Uri "$Url/-/reload" -Headers @{ Authorization = "Bearer $token" }
} catch {
  $body = $_.ErrorDetails.Message
  throw "reload refused: $body"
}
$answer | ConvertTo-Json -Depth 5
