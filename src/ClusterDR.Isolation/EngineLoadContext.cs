using System;
using System.Reflection;
using System.Runtime.Loader;

namespace ClusterDR.Isolation
{
    /// <summary>
    /// The module's own load context on PowerShell 7: ClusterDR.Core and the libraries it ships (AWSSDK, SharpZipLib,
    /// Newtonsoft.Json) load here from the module's lib/ folder, so another module's copy of them in the default context
    /// (AWS.Tools' AWSSDK.Core 3.7, say) neither breaks ClusterDR nor is broken by it.
    /// </summary>
    public sealed class EngineLoadContext : AssemblyLoadContext
    {
        private const string Engine = "ClusterDR.Core";
        private static readonly object Gate = new object();
        private static EngineLoadContext _instance;

        private readonly Func<string, string> _find;

        private EngineLoadContext(Func<string, string> find) : base("ClusterDR")
        {
            _find = find;
            // Last resort for a platform name (below) that the default context cannot provide on this host.
            Resolving += (context, name) => FromFolder(name);
        }

        /// <summary>
        /// Called once per process by ClusterDR.dll (by reflection: it cannot reference a net8.0 assembly). find maps an
        /// assembly name to the lib/ file that serves it, or null; the rule lives in ClusterDR.dll, shared with the
        /// AssemblyResolve handler of Windows PowerShell.
        /// </summary>
        public static void Register(Func<string, string> find)
        {
            lock (Gate)
            {
                if (_instance != null) return;
                _instance = new EngineLoadContext(find);
                // The cmdlets (default context) reference ClusterDR.Core: hand out the copy of this context, and nothing else,
                // so AWSSDK and the rest stay invisible to the default context.
                Default.Resolving += (context, name) => name.Name == Engine ? _instance.LoadFromAssemblyName(name) : null;
            }
        }

        protected override Assembly Load(AssemblyName name) => IsPlatform(name.Name) ? null : FromFolder(name);

        /// <summary>
        /// System.* and Microsoft.Bcl.* in lib/ are the netstandard2.0 polyfill packages for .NET Framework (System.Memory,
        /// System.Text.Json, ...). .NET carries them itself at higher versions, and a second System.Memory would be a second,
        /// incompatible Span&lt;T&gt;: they come from the default context.
        /// </summary>
        internal static bool IsPlatform(string name) =>
            name == "netstandard" || name == "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.Bcl.", StringComparison.Ordinal);

        private Assembly FromFolder(AssemblyName name)
        {
            string file = _find(name.FullName);
            return file == null ? null : LoadFromAssemblyPath(file);
        }
    }
}
