using Markdig;
using Markdig.Syntax;

namespace ClusterDR.HelpBuilder
{
    /// <summary>The one Markdig pipeline every page is read with: PlatyPS front matter and pipe tables.</summary>
    public static class Markdown
    {
        private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

        public static MarkdownDocument Parse(string text) => Markdig.Markdown.Parse(text, Pipeline);
    }
}
