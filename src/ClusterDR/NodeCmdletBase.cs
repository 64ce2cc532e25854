using System.Management.Automation;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>The OpenSSH options of every cmdlet that acts on nodes (-Node user@host:port).</summary>
    public abstract class NodeCmdletBase : ClusterDrCmdlet
    {
        /// <summary>The parameter sets of -Node and -SshSession, where a cmdlet has them.</summary>
        protected const string NodeSet = "Node", SessionSet = "SshSession";

        /// <summary>known_hosts file that SSH host keys are checked against (default: the ssh client's own).</summary>
        [Parameter]
        public string KnownHostsFile { get; set; }

        /// <summary>Private key for SSH (IdentitiesOnly).</summary>
        [Parameter]
        [Alias("KeyFile")]
        public string IdentityFile { get; set; }

        /// <summary>Accept and record host keys of nodes never seen before (changed keys are still refused).</summary>
        [Parameter]
        public SwitchParameter AcceptNewHostKey { get; set; }

        protected SshOptions Ssh() => new SshOptions
        {
            KnownHostsFile = KnownHostsFile == null ? null : FileSystemPath(KnownHostsFile),
            IdentityFile = IdentityFile == null ? null : FileSystemPath(IdentityFile),
            AcceptNewHostKeys = AcceptNewHostKey.IsPresent,
        };
    }
}
