using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>Deletes backup archives (only files whose manifest reads: a wildcard cannot take other files with it).</summary>
    [Cmdlet(VerbsCommon.Remove, "ClusterBackup", HelpUri = DocsUri.Base + "Remove-ClusterBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(void))]
    public sealed class RemoveClusterBackupCommand : ClusterDrCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string[] Path { get; set; }

        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            foreach (var p in Path)
            {
                try
                {
                    var backup = BackupArchiveReader.ReadBackup(FileSystemPath(p));
                    if (!ShouldProcess(backup.Path, $"Remove {backup.Kind} backup of {backup.Cluster} from {backup.CreatedUtc:u}")) continue;
                    BackupCatalog.Remove(backup.Path);
                }
                catch (ClusterDrException ex)
                {
                    WriteEngineError(ex);
                }
            }
        });
    }
}
