<#
.SYNOPSIS
  Installs or upgrades sstpwatch as a Windows service (WinSW), or removes the service.

.DESCRIPTION
  Run in an elevated PowerShell (5.1 or 7). Needs Node.js 22 or 24 (winget install OpenJS.NodeJS.LTS), the
  sstpwatch package (sstpwatch-<version>.tgz, from `npm pack` in a checkout) and WinSW-x64.exe v2.12
  (https://github.com/winsw/winsw/releases). Layout:
    C:\Program Files\sstpwatch\         node_modules\sstpwatch (the package), sstpwatch.exe + sstpwatch.xml (WinSW), reload.ps1
    C:\ProgramData\sstpwatch\           sstpwatch.yml, token, data\sstpwatch.db, logs\  (kept on upgrade and removal)
  The service runs as NT AUTHORITY\LocalService: it may change only C:\ProgramData\sstpwatch, and the token file
  is readable only by it, Administrators and SYSTEM. Running it again with a newer package upgrades in place
  (stop, install, start; the database is migrated at start).

.EXAMPLE
  .\install.ps1 -Package .\sstpwatch-0.2.0.tgz -WinSW .\WinSW-x64.exe
.EXAMPLE
  .\install.ps1 -Uninstall
#>
[CmdletBinding(DefaultParameterSetName = 'Install')]
param(
  [Parameter(Mandatory, ParameterSetName = 'Install')][string] $Package,
  [Parameter(Mandatory, ParameterSetName = 'Install')][string] $WinSW,
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'sstpwatch'),
  [string] $DataDir = (Join-Path $env:ProgramData 'sstpwatch'),
  [Parameter(Mandatory, ParameterSetName = 'Uninstall')][switch] $Uninstall
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run this script in an elevated PowerShell (Run as administrator).'
}

$service = Join-Path $InstallDir 'sstpwatch.exe'
$existing = Get-Service -Name sstpwatch -ErrorAction SilentlyContinue

if ($Uninstall) {
  if ($existing) {
    & $service stop | Out-Host
    & $service uninstall | Out-Host
  }
  Write-Host "Service removed. Kept: $DataDir (config, token, database, logs) and $InstallDir."
  return
}

# Node.js 22 or 24 (20 still works; it reached end of life in April 2026).
$node = (Get-Command node.exe -ErrorAction SilentlyContinue).Source
if (-not $node) { throw 'node.exe not found: install Node.js 22 or 24 (winget install OpenJS.NodeJS.LTS) and open a new PowerShell.' }
$nodeMajor = [int]((& $node --version).TrimStart('v').Split('.')[0])
if ($nodeMajor -lt 20) { throw "Node.js $(& $node --version) is too old: install Node.js 22 or 24." }
$npm = Join-Path (Split-Path $node) 'npm.cmd'
$Package = (Resolve-Path $Package).Path
$WinSW = (Resolve-Path $WinSW).Path

if ($existing -and $existing.Status -ne 'Stopped') {
  Write-Host 'Stopping the running sstpwatch service for the upgrade...'
  Stop-Service -Name sstpwatch
}

# The package and its runtime dependencies (better-sqlite3 comes as a prebuilt binary for Windows x64).
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
& $npm install --prefix $InstallDir --omit=dev --no-audit --no-fund $Package
if ($LASTEXITCODE -ne 0) { throw "npm install failed (exit $LASTEXITCODE)" }
$shipped = Join-Path $InstallDir 'node_modules\sstpwatch\deploy\windows'

# Data directory: Administrators and SYSTEM full control, the service account may change it, nobody else.
foreach ($dir in @($DataDir, (Join-Path $DataDir 'data'), (Join-Path $DataDir 'logs'))) {
  New-Item -ItemType Directory -Force -Path $dir | Out-Null
}
& icacls.exe $DataDir /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-19:(OI)(CI)M' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $DataDir failed (exit $LASTEXITCODE)" }

$config = Join-Path $DataDir 'sstpwatch.yml'
if (-not (Test-Path $config)) {
  Copy-Item (Join-Path $shipped 'sstpwatch.yml') $config
  Write-Host "Wrote ${config}: put your groups and servers in it."
}

# The bearer token for write endpoints (probe now, maintenance, POST /-/reload): 48 random hex digits, one line.
$token = Join-Path $DataDir 'token'
if (-not (Test-Path $token)) {
  $bytes = New-Object byte[] 24
  [Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
  [IO.File]::WriteAllText($token, (($bytes | ForEach-Object { $_.ToString('x2') }) -join '') + "`n")
}
# Readable by the service account, Administrators and SYSTEM only (sstpwatch cannot check ACLs itself).
& icacls.exe $token /inheritance:r /grant:r '*S-1-5-32-544:F' '*S-1-5-18:F' '*S-1-5-19:R' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $token failed (exit $LASTEXITCODE)" }

# WinSW: sstpwatch.exe with sstpwatch.xml beside it, paths filled in.
Copy-Item $WinSW $service -Force
(Get-Content -Raw (Join-Path $shipped 'sstpwatch.xml')).Replace('@NODE@', $node).Replace('@INSTALL@', $InstallDir).Replace('@DATA@', $DataDir) |
  Set-Content -Encoding UTF8 (Join-Path $InstallDir 'sstpwatch.xml')
Copy-Item (Join-Path $shipped 'reload.ps1') (Join-Path $InstallDir 'reload.ps1') -Force

if ($existing) {
  & $service refresh | Out-Host
} else {
  & $service install | Out-Host
}
if ($LASTEXITCODE -ne 0) { throw "WinSW failed (exit $LASTEXITCODE)" }
& sc.exe config sstpwatch obj= 'NT AUTHORITY\LocalService' password= '' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "sc.exe config failed (exit $LASTEXITCODE)" }
Start-Service -Name sstpwatch

# Wait for it to answer, like a load balancer would.
$deadline = (Get-Date).AddSeconds(60)
while ($true) {
  try {
    $health = Invoke-RestMethod -Uri 'http://127.0.0.1:9470/healthz' -TimeoutSec 5
    Write-Host "sstpwatch $($health.version) is running: http://127.0.0.1:9470/  (logs: $DataDir\logs)"
    break
  } catch {
    if ((Get-Date) -gt $deadline) { throw "sstpwatch did not answer http://127.0.0.1:9470/healthz within 60 s: see $DataDir\logs\sstpwatch.err.log" }
    Start-Sleep -Seconds 2
  }
}
