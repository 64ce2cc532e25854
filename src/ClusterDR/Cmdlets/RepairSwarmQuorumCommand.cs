using System;
using System.Management.Automation;
using System.Security;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>Recovers a swarm that lost quorum: --force-new-cluster from a surviving manager, then optional promotions.</summary>
    [Cmdlet(VerbsDiagnostic.Repair, "SwarmQuorum", HelpUri = DocsUri.Base + "Repair-SwarmQuorum.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SwarmRestoreResult))]
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
                }, Context);
                if (r != null) WriteObject(r);
            }
        });
    }
}
