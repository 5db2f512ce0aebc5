# Builds Teardown's Windows package from a finished build (installer\target\teardown.jar):
#   packaging\target\teardown-<version>-windows-x64.zip
# holding teardown\teardown.exe (a jpackage app-image launcher with a runtime made by jlink of the
# modules in packaging\runtime-modules: nothing else need be installed), the 64- and 32-bit
# teardown_lsp.dll (x64\, x86\), the 32-bit catalog helper (x86\teardown_catalog32.exe), and the
# README. `teardown.exe install`, elevated, installs from these files.
# Usage: pwsh packaging\windows\build-zip.ps1 [-Jar FILE] [-Out DIR]
param(
  [string]$Jar = (Join-Path $PSScriptRoot '..\..\installer\target\teardown.jar'),
  [string]$Out = (Join-Path $PSScriptRoot '..\target')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Add-Type -AssemblyName System.IO.Compression.FileSystem

$Jar = (Resolve-Path $Jar).Path
$root = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path

# One entry of the jar, as text or into a file.
function Read-Entry([string]$name) {
  $zip = [System.IO.Compression.ZipFile]::OpenRead($Jar)
  try {
    $entry = $zip.GetEntry($name)
    if ($null -eq $entry) { throw "$Jar holds no $name" }
    $reader = New-Object System.IO.StreamReader($entry.Open())
    try { return $reader.ReadToEnd() } finally { $reader.Dispose() }
  } finally { $zip.Dispose() }
}
function Save-Entry([string]$name, [string]$file) {
  $zip = [System.IO.Compression.ZipFile]::OpenRead($Jar)
  try {
    $entry = $zip.GetEntry($name)
    if ($null -eq $entry) { throw "$Jar holds no $name" }
    New-Item -ItemType Directory -Force -Path (Split-Path $file) | Out-Null
    [System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $file, $true)
  } finally { $zip.Dispose() }
}

# The version, from the one place it is set (the parent POM), as the build wrote it into the jar.
$properties = Read-Entry 'dev/teardown/admin/build.properties'
$version = ([regex]::Match($properties, '(?m)^version=(.+?)\r?$')).Groups[1].Value
if (-not $version) { throw "$Jar carries no version" }
# jpackage takes 1 to 3 numbers: 0.1.0-SNAPSHOT is 0.1.0 to Windows.
$numeric = ([regex]::Match($version, '^\d+(\.\d+){0,2}')).Value

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("teardown-zip-" + [guid]::NewGuid())
New-Item -ItemType Directory -Force -Path (Join-Path $work 'app') | Out-Null
try {
  Copy-Item $Jar (Join-Path $work 'app\teardown.jar')
  $modules = (Get-Content (Join-Path $root 'packaging\runtime-modules') | Where-Object { $_.Trim() }) -join ','
  & jlink --add-modules $modules --strip-debug --no-man-pages --no-header-files --compress=2 `
    --output (Join-Path $work 'runtime')
  if ($LASTEXITCODE -ne 0) { throw "jlink exited $LASTEXITCODE" }
  & jpackage --type app-image --name teardown --app-version $numeric --vendor 'Teardown' `
    --description 'See and shape how network connections end' `
    --input (Join-Path $work 'app') --main-jar teardown.jar --main-class dev.teardown.admin.TeardownCommand `
    --runtime-image (Join-Path $work 'runtime') --win-console --dest (Join-Path $work 'image')
  if ($LASTEXITCODE -ne 0) { throw "jpackage exited $LASTEXITCODE" }

  $image = Join-Path $work 'image\teardown'
  Save-Entry 'win32-x86-64/teardown_lsp.dll' (Join-Path $image 'x64\teardown_lsp.dll')
  Save-Entry 'win32-x86/teardown_lsp.dll' (Join-Path $image 'x86\teardown_lsp.dll')
  Save-Entry 'win32-x86/teardown_catalog32.exe' (Join-Path $image 'x86\teardown_catalog32.exe')
  Copy-Item (Join-Path $root 'README.md') (Join-Path $image 'README.md')
  foreach ($doc in 'docs', 'LICENSE') {
    $from = Join-Path $root $doc
    if (Test-Path $from) { Copy-Item -Recurse $from (Join-Path $image $doc) }
  }

  New-Item -ItemType Directory -Force -Path $Out | Out-Null
  $zip = Join-Path (Resolve-Path $Out).Path "teardown-$version-windows-x64.zip"
  if (Test-Path $zip) { Remove-Item $zip }
  [System.IO.Compression.ZipFile]::CreateFromDirectory((Join-Path $work 'image'), $zip)
  Write-Output $zip
} finally {
  Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
