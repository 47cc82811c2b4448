{
  "targets": [
    {
      "target_name": "crowdline_native",
      "sources": ["resize.c", "shared-view.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra"],
      "cflags!": ["-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
