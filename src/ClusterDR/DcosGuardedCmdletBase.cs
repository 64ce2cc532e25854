using System;
using System.Management.Automation;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>New- and Restore-DcosBackup: the ZooKeeper guard through Exhibitor, and its override.</summary>
    public abstract class DcosGuardedCmdletBase : DcosCmdletBase
    {
        /// <summary>Exhibitor on the masters; on DC/OS the cluster URL itself (Admin Router serves /exhibitor/).</summary>
        [Parameter]
        public Uri ExhibitorUri { get; set; }

        /// <summary>Go on when ZooKeeper is not whole or Exhibitor cannot be read. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override DcosRequest Request()
        {
            var r = base.Request();
            r.ExhibitorUri = ExhibitorUri;
            r.Force = Force;
            return r;
        }
    }
}
