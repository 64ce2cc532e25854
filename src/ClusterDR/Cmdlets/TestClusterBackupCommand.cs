using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Re-hashes every payload file against the manifest and runs the platform check; with -Rehearse, also restores
    /// the backup into a throwaway local server of its platform and compares what it serves with what the backup
    /// recorded. Passes each verified (and rehearsed) backup down the pipeline; each failure is a non-terminating
    /// error with an ErrorId, so only good backups flow on.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ClusterBackup", HelpUri = DocsUri.Base + "Test-ClusterBackup.md", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(ClusterBackup), typeof(bool))]
    public sealed class TestClusterBackupCommand : ClusterDrCmdlet
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath", DcosSet = "DcosBackup";

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


        /// <summary>
        /// A DC/OS backup (Get-DcosBackup's). It lives inside the cluster's own backup store, so it can be neither verified
        /// nor rehearsed here: each one is a RehearsalUnsupported error that says so.
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = DcosSet, ValueFromPipeline = true)]
        public DcosBackupInfo DcosBackup { get; set; }

        /// <summary>
        /// Also restore each backup into a throwaway server on this machine (etcd, ZooKeeper, a dockerd in a network
        /// namespace, PostgreSQL) on loopback, in a temp dir, and compare what it serves with what the backup recorded;
        /// the server and its dir are gone afterwards. The backup's Rehearsal property holds every check.
        /// </summary>
        [Parameter]
        public SwitchParameter Rehearse { get; set; }

        /// <summary>Directories searched before PATH for the programs a rehearsal runs (etcd, etcdutl, java and ZooKeeper's jars, dockerd, PostgreSQL's bin).</summary>
        [Parameter]
        public string[] ToolPath { get; set; }

        /// <summary>The unlock key that was current when an autolocked swarm backup was taken: its rehearsal unlocks with it.</summary>
        [Parameter]
        public System.Security.SecureString UnlockKey { get; set; }

        /// <summary>Return $true/$false per backup instead of objects and errors.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            if (ParameterSetName == DcosSet)
            {
                var ex = new ClusterDrException(ErrorIds.RehearsalUnsupported, ErrorKind.NotImplemented,
                    $"DC/OS backup {DcosBackup.Id} lives inside the cluster (its backup service holds it); ClusterDR cannot verify or rehearse it on this machine.",
                    DcosBackup, recommendedAction: "See its state with Get-DcosBackup; rehearse it by Restore-DcosBackup on a staging DC/OS cluster.");
                if (Quiet) { WriteVerbose($"{DcosBackup.Id}: {ex.ErrorId}: {ex.Message}"); WriteObject(false); }
                else WriteEngineError(ex);
                return;
            }
            bool literal = ParameterSetName == LiteralPathSet;
            var options = Rehearse ? new Rehearsal.RehearsalOptions { ToolPath = ToolPath ?? new string[0], UnlockKey = UnlockKey } : null;
            foreach (var given in literal ? LiteralPath : Path)
            foreach (var p in Resolve(given, literal))
            {
                if (p == null) continue;
                try
                {
                    var verified = Rehearse ? Rehearsal.BackupRehearsal.Run(p, options, Context) : BackupVerifier.Verify(p, Context);
                    WriteVerbose($"{verified.Path}: {verified.Verification}.");
                    if (verified.Rehearsal != null) WriteVerbose($"{verified.Path}: rehearsal {verified.Rehearsal}.");
                    if (Quiet) WriteObject(true); else WriteObject(verified);
                }
                catch (ClusterDrException ex)
                {
                    if (Quiet) { WriteVerbose($"{p}: {ex.ErrorId}: {ex.Message}"); WriteObject(false); }
                    else WriteEngineError(ex);
                }
            }
        });

        /// <summary>The archives one -Path names; one that names none is an error (with -Quiet: $false).</summary>
        private System.Collections.Generic.IEnumerable<Stores.BackupLocation> Resolve(string given, bool literal)
        {
            try { return BackupLocations(given, literal, Store); }
            catch (ClusterDrException ex)
            {
                if (Quiet) { WriteVerbose($"{given}: {ex.ErrorId}: {ex.Message}"); WriteObject(false); }
                else WriteEngineError(ex);
                return new Stores.BackupLocation[0];
            }
        }
    }
}
