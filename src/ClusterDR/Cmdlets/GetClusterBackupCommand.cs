using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>Lists backup archives by reading their manifests only, newest first.</summary>
    [Cmdlet(VerbsCommon.Get, "ClusterBackup", HelpUri = DocsUri.Base + "Get-ClusterBackup.md")]
    [OutputType(typeof(ClusterBackup))]
    public sealed class GetClusterBackupCommand : ClusterDrCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string[] Path { get; set; } = { "." };

        [Parameter]
        [ArgumentCompleter(typeof(BackupKindCompleter))]
        public string Kind { get; set; }

        [Parameter]
        public string Cluster { get; set; }

        [Parameter]
        public SwitchParameter Recurse { get; set; }

        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            foreach (var p in Path)
            {
                try
                {
                    var found = BackupCatalog.List(FileSystemPath(p), Recurse, Kind, Cluster,
                        (file, ex) =>
                        {
                            // A damaged or cut-off backup is news an operator must see; a foreign file is not.
                            if (ex.ErrorId == ErrorIds.ArchiveCorrupt) WriteWarning($"Leaving out {file}: {ex.Message}");
                            else WriteVerbose($"Skipping {file}: {ex.Message}");
                        });
                    foreach (var b in found) WriteObject(b);
                }
                catch (ClusterDrException ex)
                {
                    WriteEngineError(ex);
                }
            }
        });
    }
}
