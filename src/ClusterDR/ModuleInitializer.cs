using System;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ClusterDR.Commands
{
    /// <summary>Import-Module runs this before any cmdlet: from here on the engine and its dependencies load from lib/.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            DependencyFolder.Register();
            if (!DependencyFolder.OnNetFramework) EngineTypes.MakeResolvable();
        }
    }

    /// <summary>
    /// PowerShell 7 resolves a type literal ([ClusterDR.ClusterBackup]) only among the assemblies of the default load
    /// context; the engine's types live in the module's own. Registering each public engine type as a type accelerator
    /// under its full name keeps every literal a script wrote before working. TypeAccelerators is not public API: when a
    /// PowerShell lacks it the cmdlets, their output and the format views still work, only literals do not.
    /// </summary>
    internal static class EngineTypes
    {
        private static readonly object Gate = new object();
        private static bool _done;

        // Not inlined into OnImport: naming an engine type there would make the JIT look for ClusterDR.Core before
        // DependencyFolder.Register ran.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static void MakeResolvable()
        {
            // Once per process, under a lock: the accelerators are one process-wide Dictionary that is not safe to write from
            // several threads, and runspaces importing the module at once (ForEach-Object -Parallel) would do just that.
            // The engine's types never change within a process (its load context never unloads), so once is enough.
            lock (Gate)
            {
                if (_done) return;
                var accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
                var add = accelerators?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(Type) }, null);
                if (add != null)
                    foreach (var type in typeof(ClusterBackup).Assembly.GetExportedTypes())
                        add.Invoke(null, new object[] { type.FullName, type });
                _done = true;
            }
        }
    }
}
