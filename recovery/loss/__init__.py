"""Theft and line-loss screening (反窃查漏): transformer areas and feeder lines, the energy delivered into each
area, the monthly line-loss rate, the suspect list, inspections (用电检查) and their outcome, tip-offs (举报)."""
