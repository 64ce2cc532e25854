using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>Deletes backup archives (only files whose manifest reads: a wildcard cannot take other files with it).</summary>
    [Cmdlet(VerbsCommon.Remove, "ClusterBackup", HelpUri = DocsUri.Base + "Remove-ClusterBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(void))]
    public sealed class RemoveClusterBackupCommand : ClusterDrCmdlet
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

        /// <summary>Backup archives; wildcards are expanded. Binds strings from the pipeline.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        public string[] Path { get; set; }

        /// <summary>Backup archives, taken exactly as written; binds ClusterBackup objects (FullName) and files (PSPath) from the pipeline.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        public string[] LiteralPath { get; set; }

        /// <summary>The store the backup is in (New-ClusterBackupStore): paths are then keys or URIs of its objects. Binds ClusterBackup objects' Store from the pipeline; without it, paths are files.</summary>
        // Bound from the pipeline in the -LiteralPath sets only: in the default -Path set a piped backup would bind
        // -Store by name first, and PowerShell would then take the object itself for -Path as a string.
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        public Stores.BackupStore Store { get; set; }


        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach (var given in literal ? LiteralPath : Path)
            {
                try
                {
                    foreach (var p in BackupLocations(given, literal, Store))
                    {
                        try
                        {
                            var backup = BackupArchiveReader.ReadBackup(p);
                            if (!ShouldProcess(backup.Path, $"Remove {backup.Kind} backup of {backup.Cluster} from {backup.CreatedUtc:u}")) continue;
                            BackupCatalog.Remove(backup.Location);
                        }
                        catch (ClusterDrException ex) { WriteEngineError(ex); }
                    }
                }
                catch (ClusterDrException ex) { WriteEngineError(ex); }
            }
        });
    }
}
