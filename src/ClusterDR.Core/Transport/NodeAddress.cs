using System;
using System.Globalization;

namespace ClusterDR.Transport
{
    /// <summary>
    /// A -Node value: "localhost" (run locally, no SSH) or an SSH target "[ssh://][user@]host[:port]",
    /// with IPv6 hosts in brackets ("root@[::1]:2222").
    /// </summary>
    public sealed class NodeAddress
    {
        private NodeAddress(bool isLocal, string user, string host, int port)
        {
            IsLocal = isLocal; User = user; Host = host; Port = port;
        }

        public bool IsLocal { get; }
        public string User { get; }
        public string Host { get; }
        /// <summary>0 when not given (ssh's own default applies).</summary>
        public int Port { get; }

        public static NodeAddress Parse(string node)
        {
            if (string.IsNullOrWhiteSpace(node)) throw Invalid(node, "it is empty");
            string s = node.Trim();
            if (s.Equals("localhost", StringComparison.OrdinalIgnoreCase) || s == "." || s.Equals("local", StringComparison.OrdinalIgnoreCase))
                return new NodeAddress(true, null, "localhost", 0);
            if (s.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase)) s = s.Substring(6).TrimEnd('/');
            string user = null;
            int at = s.LastIndexOf('@');
            if (at >= 0)
            {
                user = s.Substring(0, at);
                s = s.Substring(at + 1);
                if (user.Length == 0) throw Invalid(node, "the user name is empty");
            }
            string host = s;
            int port = 0;
            if (s.StartsWith("[", StringComparison.Ordinal))
            {
                int close = s.IndexOf(']');
                if (close < 0) throw Invalid(node, "an IPv6 address needs a closing ']'");
                host = s.Substring(1, close - 1);
                string rest = s.Substring(close + 1);
                if (rest.Length > 0)
                {
                    if (rest[0] != ':') throw Invalid(node, "expected ':port' after ']'");
                    port = ParsePort(node, rest.Substring(1));
                }
            }
            else
            {
                int colon = s.IndexOf(':');
                if (colon >= 0)
                {
                    if (s.IndexOf(':', colon + 1) >= 0) throw Invalid(node, "write IPv6 addresses in brackets, as [::1]:22");
                    host = s.Substring(0, colon);
                    port = ParsePort(node, s.Substring(colon + 1));
                }
            }
            if (host.Length == 0 || host.IndexOfAny(new[] { ' ', '\t', '/', '\\', '\'', '"', ';', '&', '|', '$', '`' }) >= 0 || host.StartsWith("-", StringComparison.Ordinal))
                throw Invalid(node, "the host name is not valid");
            if (user != null && (user.StartsWith("-", StringComparison.Ordinal) || user.IndexOfAny(new[] { ' ', '\'', '"', ';', '$', '`' }) >= 0))
                throw Invalid(node, "the user name is not valid");
            return new NodeAddress(false, user, host, port);
        }

        private static int ParsePort(string node, string text)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
                throw Invalid(node, "the port must be a number from 1 to 65535");
            return port;
        }

        private static ClusterDrException Invalid(string node, string why) =>
            new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument,
                $"'{node}' is not a valid node: {why}. Use 'localhost' or an SSH target such as 'admin@10.0.0.5:22'.", node);

        public override string ToString()
        {
            if (IsLocal) return "localhost";
            string h = Host.IndexOf(':') >= 0 ? "[" + Host + "]" : Host;
            return (User != null ? User + "@" : "") + h + (Port > 0 ? ":" + Port.ToString(CultureInfo.InvariantCulture) : "");
        }
    }
}
