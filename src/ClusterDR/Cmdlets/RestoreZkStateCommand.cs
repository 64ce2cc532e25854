using System;
using System.Collections.Generic;
using System.Management.Automation;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Commands
{
    /// <summary>
    /// DC/OS's ZooKeeper restore onto ALL servers: verify the archive, stop every server, move every
    /// data dir aside, write the same state with each server's own myid, start all and wait until every
    /// server serves with one leader; then check the znode count. Undoes everything on failure.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "ZkState", HelpUri = DocsUri.Base + "Restore-ZkState.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RestoreZkStateCommand : NodeCmdletBase
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

        /// <summary>The backup archive; wildcards are expanded and must name exactly one backup. Binds strings from the pipeline.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        public string[] Path { get; set; }

        /// <summary>The backup archive, taken exactly as written; binds ClusterBackup objects (FullName) and files (PSPath) from the pipeline.</summary>
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


        /// <summary>Every server of the ensemble: hashtables with Id, Name, Node, ClientAddress, DataDir, DataLogDir and Unit or StartCommand/StopCommand.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public ZkMemberSpec[] Member { get; set; }

        /// <summary>Seconds to wait for the restored ensemble to serve.</summary>
        [Parameter]
        [ValidateRange(5, 3600)]
        public int WaitTimeoutSec { get; set; } = 120;

        /// <summary>Restore even though the ensemble serves (its newer data is moved aside). Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<Stores.BackupLocation> _paths = new List<Stores.BackupLocation>();

        protected override void ProcessRecord() => Run(() => CollectBackups(_paths, Path, LiteralPath, Store));

        protected override void EndProcessing() => Run(() =>
        {
            var result = ZkRestore.Run(new ZkRestoreRequest
            {
                BackupPath = SingleBackup(_paths),
                Members = Member,
                Force = Force,
                Ssh = Ssh(),
                WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
            }, Context);
            if (result != null) WriteObject(result);
        });
    }
}
