{
  "variables": {
    "with_jpeg%": "<!(sh -c 'printf \"#include <stdio.h>\\n#include <jpeglib.h>\\n\" | ${CC:-cc} -E -x c - >/dev/null 2>&1 && echo 1 || echo 0')"
  },
  "targets": [
    {
      "target_name": "crowdline_native",
      "sources": ["resize.c", "shared-view.c", "peer-state.c", "thread-nice.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra"],
      "cflags!": ["-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } },
      "conditions": [
        ["with_jpeg==1", {
          "sources": ["decode-resize.c"],
          "defines": ["CROWDLINE_HAVE_JPEG"],
          "libraries": ["-ljpeg"]
        }]
      ]
    }
  ]
}
