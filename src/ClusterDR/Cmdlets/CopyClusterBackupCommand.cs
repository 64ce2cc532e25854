using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Copies backups between stores (a local directory, an S3 bucket, an Azure Blob container) for the 3-2-1 rule:
    /// one streamed pass that verifies every payload hash on the way and commits the copy only when the whole archive
    /// verified. Passes each copy down the pipeline.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "ClusterBackup", HelpUri = DocsUri.Base + "Copy-ClusterBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class CopyClusterBackupCommand : ClusterDrCmdlet
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

        /// <summary>Backup archives to copy; wildcards are expanded. Binds strings from the pipeline.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        public string[] Path { get; set; }

        /// <summary>Backup archives, taken exactly as written; binds ClusterBackup objects (FullName) and files (PSPath) from the pipeline.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        public string[] LiteralPath { get; set; }

        /// <summary>The store the backups are in (New-ClusterBackupStore): paths are then keys or URIs of its objects. Binds ClusterBackup objects' Store from the pipeline; without it, paths are files.</summary>
        // Bound from the pipeline in the -LiteralPath sets only: in the default -Path set a piped backup would bind
        // -Store by name first, and PowerShell would then take the object itself for -Path as a string.
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        public Stores.BackupStore Store { get; set; }

        /// <summary>
        /// Files of age identities (New-ClusterBackupKey's or age-keygen's AGE-SECRET-KEY-1… lines) that open encrypted
        /// backups. Not -IdentityFile: that is the SSH key of the cmdlets that reach nodes.
        /// </summary>
        [Parameter]
        public string[] DecryptionKeyFile { get; set; }

        /// <summary>An age identity as a SecureString (the AGE-SECRET-KEY-1… text, e.g. from an Automation credential), for when no file may hold it.</summary>
        [Parameter]
        public System.Security.SecureString DecryptionKey { get; set; }

        /// <summary>The passphrase of a passphrase-encrypted backup.</summary>
        [Parameter]
        public System.Security.SecureString Passphrase { get; set; }

        private Encryption.AgeKeyring _keyring;

        /// <summary>The keys given, read once.</summary>
        protected override Encryption.AgeKeyring Keyring => _keyring ?? (_keyring = EncryptionParameters.Keyring(this, DecryptionKeyFile, DecryptionKey, Passphrase));

        /// <summary>The directory that receives the copies (created when missing); with -DestinationStore, a folder of that store ("." for its root).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public string Destination { get; set; }

        /// <summary>The store that receives the copies; without it, -Destination is a local directory.</summary>
        [Parameter]
        public Stores.BackupStore DestinationStore { get; set; }

        // Engine errors are written per input (a pipeline of many backups goes on); Run ends the cmdlet on anything else.
        protected override void ProcessRecord() => Run(() =>
        {
            bool literal = ParameterSetName == LiteralPathSet;
            string folder = ArchiveParameters.Destination(this, Destination, DestinationStore);
            var to = DestinationStore ?? Stores.LocalStore.Instance;
            foreach (var given in literal ? LiteralPath : Path)
            {
                try
                {
                    foreach (var source in BackupLocations(given, literal, Store))
                    {
                        try
                        {
                            string target = to.Describe(to.Combine(folder, source.Name));
                            if (!ShouldProcess(target, $"Copy backup {source.Display}, verifying it on the way")) continue;
                            var copy = BackupCopy.Copy(source, DestinationStore, folder, Context);
                            WriteVerbose($"{copy.Path}: {copy.Verification}.");
                            WriteObject(copy);
                        }
                        catch (ClusterDrException ex) { WriteEngineError(ex); }
                    }
                }
                catch (ClusterDrException ex) { WriteEngineError(ex); }
            }
        });
    }
}
