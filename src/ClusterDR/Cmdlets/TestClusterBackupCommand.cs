using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Re-hashes every payload file against the manifest and runs the platform check. Passes each
    /// verified backup down the pipeline; each failure is a non-terminating error with an ErrorId,
    /// so only verified backups flow on.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ClusterBackup", HelpUri = DocsUri.Base + "Test-ClusterBackup.md", DefaultParameterSetName = "Object")]
    [OutputType(typeof(ClusterBackup), ParameterSetName = new[] { "Object" })]
    [OutputType(typeof(bool), ParameterSetName = new[] { "Quiet" })]
    public sealed class TestClusterBackupCommand : ClusterDrCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string[] Path { get; set; }

        /// <summary>Return $true/$false per backup instead of objects and errors.</summary>
        [Parameter(ParameterSetName = "Quiet")]
        public SwitchParameter Quiet { get; set; }

        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            foreach (var p in Path)
            {
                try
                {
                    var verified = BackupVerifier.Verify(FileSystemPath(p), Context);
                    WriteVerbose($"{verified.Path}: {verified.Verification}.");
                    if (Quiet) WriteObject(true); else WriteObject(verified);
                }
                catch (ClusterDrException ex)
                {
                    if (Quiet) { WriteVerbose($"{p}: {ex.ErrorId}: {ex.Message}"); WriteObject(false); }
                    else WriteEngineError(ex);
                }
            }
        });
    }
}
