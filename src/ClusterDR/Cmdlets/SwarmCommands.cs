using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Security;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>The quorum status of a swarm as one manager sees it: managers, reachability, leader, workers, quorum, autolock, the local node's state.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmClusterStatus", DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SwarmClusterStatus))]
    public sealed class GetSwarmClusterStatusCommand : SwarmCmdletBase
    {
        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var s = SwarmStatusReader.Read(sh, Options(), Cancellation);
                if (s.IsManager && s.Managers.Length > 0 && !s.HasQuorum) WriteWarning($"The swarm has no quorum: {s}.");
                WriteObject(s);
            }
        });
    }

    /// <summary>Backs up one manager's swarm state: guard, stop Docker, stream the swarm dir into an archive, start, unlock, wait.</summary>
    [Cmdlet(VerbsData.Backup, "SwarmManager", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupSwarmManagerCommand : SwarmDaemonCmdletBase
    {
        /// <summary>Directory that receives the archive (created when missing).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("Destination")]
        public string Path { get; set; }

        [Parameter]
        [ValidatePattern("^[A-Za-z0-9_.-]{1,64}$")]
        public string Label { get; set; }

        /// <summary>Back up although stopping this manager costs quorum, or it is the only manager.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var b = SwarmBackup.Run(new SwarmBackupRequest
                {
                    Shell = sh, Options = Options(), Directory = FileSystemPath(Path), Label = Label, Force = Force, UnlockKey = UnlockKey,
                }, this);
                if (b != null) WriteObject(b);
            }
        });
    }

    /// <summary>Restores a manager backup onto one host and forces a new one-manager cluster from it.</summary>
    [Cmdlet(VerbsData.Restore, "SwarmManager", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RestoreSwarmManagerCommand : SwarmDaemonCmdletBase
    {
        /// <summary>The backup archive; binds ClusterBackup objects from the pipeline.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string Path { get; set; }

        /// <summary>--advertise-addr of the new cluster.</summary>
        [Parameter]
        public string AdvertiseAddress { get; set; }

        /// <summary>--listen-addr of the new cluster.</summary>
        [Parameter]
        public string ListenAddress { get; set; }

        /// <summary>Restore onto a host that is an active member of a healthy swarm. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<string> _paths = new List<string>();

        protected override void ProcessRecord() => _paths.Add(Path);

        protected override void EndProcessing() => Run(() =>
        {
            string path = SingleBackup(_paths);
            using (var sh = Shell())
            {
                var r = SwarmRestore.Run(new SwarmRestoreRequest
                {
                    BackupPath = path, Shell = sh, Options = Options(), AdvertiseAddress = AdvertiseAddress,
                    ListenAddress = ListenAddress, UnlockKey = UnlockKey, Force = Force,
                }, this);
                if (r != null) WriteObject(r);
            }
        });
    }

    /// <summary>Recovers a swarm that lost quorum: --force-new-cluster from a surviving manager, then optional promotions.</summary>
    [Cmdlet(VerbsDiagnostic.Repair, "SwarmQuorum", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RepairSwarmQuorumCommand : SwarmCmdletBase
    {
        [Parameter]
        public string AdvertiseAddress { get; set; }

        [Parameter]
        public string ListenAddress { get; set; }

        /// <summary>Nodes (hostname or id) to promote back to managers once the swarm works.</summary>
        [Parameter]
        public string[] Promote { get; set; }

        /// <summary>Unlocks the survivor first when it is locked.</summary>
        [Parameter]
        public SecureString UnlockKey { get; set; }

        [Parameter]
        [ValidateRange(5, 3600)]
        public int WaitTimeoutSec { get; set; } = 120;

        /// <summary>Force a new cluster although the swarm may still have quorum. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var o = Options();
                o.WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec);
                var r = SwarmRepair.Run(new SwarmRepairRequest
                {
                    Shell = sh, Options = o, AdvertiseAddress = AdvertiseAddress, ListenAddress = ListenAddress,
                    Promote = Promote ?? new string[0], Force = Force, UnlockKey = UnlockKey,
                }, this);
                if (r != null) WriteObject(r);
            }
        });
    }

    /// <summary>The swarm's autolock unlock key, as a SecureString unless -AsPlainText.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmUnlockKey", DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SecureString), typeof(string))]
    public sealed class GetSwarmUnlockKeyCommand : SwarmCmdletBase
    {
        [Parameter]
        public SwitchParameter AsPlainText { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var key = SwarmUnlockKeys.Get(sh, Options(), this);
                WriteObject(AsPlainText ? (object)new NetworkCredential("", key).Password : key);
            }
        });
    }

    /// <summary>Rotates the swarm's unlock key and returns the new one.</summary>
    [Cmdlet(VerbsData.Update, "SwarmUnlockKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SecureString), typeof(string))]
    public sealed class UpdateSwarmUnlockKeyCommand : SwarmCmdletBase
    {
        [Parameter]
        public SwitchParameter AsPlainText { get; set; }

        /// <summary>Rotate although the manager's swarm has no quorum (the rotation then fails in Docker).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var key = SwarmUnlockKeys.Rotate(sh, Options(), Force, this);
                if (key != null) WriteObject(AsPlainText ? (object)new NetworkCredential("", key).Password : key);
            }
        });
    }

    /// <summary>Classic Swarm HA managers (swarm manage --replication): role, primary, nodes, strategy and filters from each one's /info.</summary>
    [Cmdlet(VerbsCommon.Get, "SwarmClassicManager")]
    [OutputType(typeof(SwarmClassicManager))]
    public sealed class GetSwarmClassicManagerCommand : ClusterDrCmdlet
    {
        /// <summary>host:port (or URL) of each manager's Docker API.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string[] Endpoint { get; set; }

        [Parameter]
        [ValidateRange(1, 300)]
        public int TimeoutSec { get; set; } = 3;

        protected override void ProcessRecord() => Run(() =>
            WriteObject(SwarmClassic.Read(Endpoint, TimeSpan.FromSeconds(TimeoutSec), Cancellation), enumerateCollection: true));
    }

    /// <summary>A failover drill for classic Swarm HA: stop the primary, time the takeover by a replica, start the old primary again.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "SwarmClassicFailover", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(SwarmClassicFailoverResult))]
    public sealed class TestSwarmClassicFailoverCommand : NodeCmdletBase
    {
        /// <summary>host:port of every manager.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public string[] Endpoint { get; set; }

        /// <summary>sh command that stops the Swarm manager on the primary's node (for example: docker stop swarm-manager).</summary>
        [Parameter(Mandatory = true)]
        public string StopCommand { get; set; }

        /// <summary>sh command that starts it again.</summary>
        [Parameter(Mandatory = true)]
        public string StartCommand { get; set; }

        /// <summary>Where the primary runs ("localhost" or user@host:port); default: the primary endpoint's host over SSH.</summary>
        [Parameter]
        public string Node { get; set; }

        /// <summary>A Posh-SSH session to the primary's node.</summary>
        [Parameter]
        public object SshSession { get; set; }

        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 120;

        protected override void ProcessRecord() => Run(() =>
        {
            var ssh = Ssh();
            var r = SwarmClassic.TestFailover(new SwarmClassicFailoverRequest
            {
                Endpoints = Endpoint,
                StopCommand = StopCommand,
                StartCommand = StartCommand,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                ShellFor = primary => ShellFactory.Create(Node ?? SwarmClassic.InfoUri(primary).Host, SshSession, ssh),
            }, this);
            if (r != null) WriteObject(r);
        });
    }
}
