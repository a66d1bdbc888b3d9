"""Stands in for the comfyui-frontend-package wheel (not in Debian): ComfyUI 0.33.0 exits at
start-up without a frontend. regen needs only the API; static/ holds one page saying so."""
