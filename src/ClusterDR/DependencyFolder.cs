using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ClusterDR.Commands
{
    /// <summary>
    /// The engine (ClusterDR.Core) and its dependencies ship in lib/ beside ClusterDR.dll, where neither PowerShell nor the
    /// runtime looks by itself; this serves them from there before any cmdlet touches the engine. On PowerShell 7 they load
    /// into the module's own AssemblyLoadContext (ClusterDR.Isolation.dll); on Windows PowerShell 5.1 an AssemblyResolve
    /// handler serves lib/'s copy whatever version is asked, since powershell.exe has no binding redirects for the
    /// versions our dependencies ask of each other (SharpZipLib asks System.Memory 4.0.1.1, 4.0.1.2 ships; ...).
    /// </summary>
    internal static class DependencyFolder
    {
        internal const string FolderName = "lib";
        private const string Isolation = "ClusterDR.Isolation";
        private static readonly object Gate = new object();
        private static bool _registered;

        /// <summary>lib/<paramref name="assemblyName"/>'s simple name.dll when it ships in <paramref name="folder"/>, any version asked; else null.</summary>
        internal static string Find(string folder, string assemblyName)
        {
            string simple;
            try { simple = new AssemblyName(assemblyName).Name; }
            catch (Exception e) when (e is ArgumentException || e is FileLoadException) { return null; } // not a name we could ship
            if (string.IsNullOrEmpty(simple) || simple.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0) return null;
            string file = Path.Combine(folder, simple + ".dll");
            return File.Exists(file) ? file : null;
        }

        /// <summary>.NET Framework (Windows PowerShell 5.1) or .NET (PowerShell 7): decided by the runtime, not by the PowerShell version.</summary>
        internal static bool OnNetFramework => RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal);

        /// <summary>Once per process: Import-Module -Force runs the initializer again, and a registered handler cannot go with the module (assemblies never unload).</summary>
        internal static void Register()
        {
            lock (Gate)
            {
                if (_registered) return;
                string moduleDir = Path.GetDirectoryName(typeof(DependencyFolder).Assembly.Location);
                string folder = Path.Combine(moduleDir, FolderName);
                Func<string, string> find = name => Find(folder, name);
                if (OnNetFramework)
                {
                    AppDomain.CurrentDomain.AssemblyResolve += (sender, e) => ResolveOnNetFramework(find, e.Name);
                }
                else
                {
                    var loader = Assembly.LoadFrom(Path.Combine(moduleDir, Isolation + ".dll"));
                    loader.GetType(Isolation + ".EngineLoadContext", throwOnError: true).GetMethod("Register").Invoke(null, new object[] { find });
                }
                _registered = true;
            }
        }

        /// <summary>The handler of Windows PowerShell: a name that ships in lib/ is served from there, whatever version was asked.</summary>
        internal static Assembly ResolveOnNetFramework(Func<string, string> find, string requested)
        {
            string file = find(requested);
            return file == null ? null : Assembly.LoadFrom(file);
        }
    }
}
